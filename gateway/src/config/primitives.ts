// The value types every part of the config schema shares.
import { z } from 'zod';

export const url = z.string().url();
// Env values arrive as strings: 'false' must mean false (z.coerce.boolean would say true).
export const bool = z.preprocess(
  (v) => (v === 'false' || v === '0' ? false : v === 'true' || v === '1' ? true : v),
  z.boolean(),
);

// A list from YAML, or from one env variable as comma-separated items (GATEWAY_SERVER_CORS__ORIGINS=a,b).
export const list = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string()),
);
