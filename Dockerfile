# One image for every jobcast process; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY actors ./actors
COPY web ./web
COPY store ./store
COPY client ./client
RUN pip install .
RUN useradd --create-home jobcast
USER jobcast
EXPOSE 8000
CMD ["uvicorn", "web.app:app", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--ws-max-size", "16384"]
