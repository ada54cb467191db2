/**
 * Sealed JSON with a deadline: the expiry travels inside the ciphertext, so nothing outside
 * can extend it, and an expired value is refused however authentic it is.
 */
import { SealError, type Sealer, type SealPurpose } from './ports';

/** Why a sealed value was refused. */
export type OpenFailure = 'invalid' | 'expired';

export class OpenSealedError extends Error {
  override readonly name = 'OpenSealedError';
  constructor(
    readonly failure: OpenFailure,
    options?: ErrorOptions,
  ) {
    super(
      failure === 'expired' ? 'The sealed value has expired' : 'Not a valid sealed value',
      options,
    );
  }
}

export async function sealJson(
  sealer: Sealer,
  purpose: SealPurpose,
  value: unknown,
  expiresAtSeconds: number,
): Promise<string> {
  return sealer.seal(purpose, JSON.stringify({ e: expiresAtSeconds, d: value }));
}

/**
 * The value, if `sealed` opens for `purpose` and has not expired at `nowSeconds`.
 * @param parse checks the shape (returns undefined when it is wrong)
 * @throws OpenSealedError
 */
export async function openJson<T>(
  sealer: Sealer,
  purpose: SealPurpose,
  sealed: string,
  nowSeconds: number,
  parse: (value: unknown) => T | undefined,
): Promise<{ value: T; expiresAt: number }> {
  let plaintext: string;
  try {
    plaintext = await sealer.open(purpose, sealed);
  } catch (error) {
    if (error instanceof SealError) throw new OpenSealedError('invalid', { cause: error });
    throw error;
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(plaintext);
  } catch (error) {
    throw new OpenSealedError('invalid', { cause: error });
  }
  const { e, d } = (envelope ?? {}) as { e?: unknown; d?: unknown };
  if (typeof e !== 'number') throw new OpenSealedError('invalid');
  if (e <= nowSeconds) throw new OpenSealedError('expired');
  const value = parse(d);
  if (value === undefined) throw new OpenSealedError('invalid');
  return { value, expiresAt: e };
}
