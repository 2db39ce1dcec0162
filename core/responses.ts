import type { APIGatewayProxyResult } from 'aws-lambda';

/** A JSON response with the given status. */
export const jsonResponse = (statusCode: number, body: unknown, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyResult => ({
  statusCode,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
