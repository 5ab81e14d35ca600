/** A request the dashboard refuses on purpose: the status and message go to the client as `{ "error": … }`. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 404 | 405 | 421,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
