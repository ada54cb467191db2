/**
 * The little of Express 5 the bench's baseline uses. Express comes with the MCP SDK (a
 * dependency of its own), but its types do not; this narrow declaration stands in for
 * `@types/express`, which the project does not install for a bench-only baseline.
 */
declare module 'express' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Request extends IncomingMessage {
    /** What `express.json()` parsed, `undefined` before it ran. */
    body: unknown;
  }

  export interface Response extends ServerResponse {
    status(code: number): this;
    json(body: unknown): this;
    set(field: string, value: string): this;
  }

  export type NextFunction = (error?: unknown) => void;
  export type RequestHandler = (req: Request, res: Response, next: NextFunction) => unknown;

  /** An application is itself a Node request listener. */
  export interface Express {
    (req: IncomingMessage, res: ServerResponse): void;
    use(...handlers: RequestHandler[]): this;
    post(path: string, ...handlers: RequestHandler[]): this;
    all(path: string, ...handlers: RequestHandler[]): this;
    disable(setting: string): this;
  }

  interface ExpressFactory {
    (): Express;
    json(options?: { limit?: string | number }): RequestHandler;
  }

  const express: ExpressFactory;
  export default express;
}
