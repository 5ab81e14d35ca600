import type { ErrorResponse } from '../api-types.js';

/** A refused or failed request, with the server's sentence about it. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  const body = (await response.json()) as T | ErrorResponse;
  if (!response.ok) throw new ApiFailure(response.status, (body as ErrorResponse).error ?? response.statusText);
  return body as T;
}

export function query(params: Record<string, string | string[] | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) for (const v of [value ?? []].flat()) if (v) search.append(key, v);
  const text = search.toString();
  return text ? `?${text}` : '';
}
