# One image for every jobcast process; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The locked, hash-checked dependencies first (a layer that changes only with the lock),
# then jobcast itself, built with the locked setuptools.
COPY requirements/app.txt requirements/app.txt
RUN pip install --require-hashes --no-deps -r requirements/app.txt
COPY pyproject.toml README.md ./
COPY actors ./actors
COPY web ./web
COPY store ./store
COPY client ./client
RUN pip install --no-deps --no-build-isolation .
RUN useradd --create-home jobcast
USER jobcast
EXPOSE 8000
CMD ["uvicorn", "web.app:app", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--ws-max-size", "16384"]
