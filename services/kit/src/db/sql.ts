/** Quotes a value as a SQL string literal, for the few statements that must run without params. */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new TypeError('SQL literals cannot contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}
