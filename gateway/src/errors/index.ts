// The one error catalog clients see (codes.ts, mirrored by docs/errors.md), one class per failure kind,
// and the formatter that masks everything else.
export { ErrorCode, isErrorCode, statusOf } from './codes.ts';
export * from './errors.ts';
export { createFormatError, type FormatErrorOptions } from './format.ts';
