// REST calls of the dashboard, with the API key (when one is set) as a Bearer token.
import { authHeaders } from "./jobcast.js";

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.details = error.details ?? [];
  }
}

export function createApi(getKey) {
  async function request(method, path, body) {
    const headers = { Accept: "application/json", ...authHeaders(getKey()) };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, { code: "unreachable", message: "the server cannot be reached" });
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const fallback = { code: "http_error", message: `${method} ${path}: HTTP ${response.status}` };
      throw new ApiError(response.status, data?.error ?? fallback);
    }
    return data;
  }
  const job = (id) => `/jobs/${encodeURIComponent(id)}`;
  return {
    jobTypes: () => request("GET", "/job-types"),
    listJobs: (status) => request("GET", `/jobs?limit=50${status ? `&status=${encodeURIComponent(status)}` : ""}`),
    getJob: (id) => request("GET", job(id)),
    submit: (body) => request("POST", "/jobs", body),
    cancel: (id) => request("POST", `${job(id)}/cancel`),
    retry: (id) => request("POST", `${job(id)}/retry`),
    retryFailedItems: (id) => request("POST", `${job(id)}/retry?items=failed`),
    remove: (id) => request("DELETE", job(id)),
    usage: () => request("GET", "/usage"),
  };
}
