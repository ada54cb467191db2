/** Types of `preflight.mjs`, which stays plain JavaScript so that any Node.js can run it. */
export declare const MIN_NODE: readonly [number, number];
export declare function preflightProblem(state: {
  readonly nodeVersion: string;
  readonly hasDependencies: boolean;
}): string | undefined;
