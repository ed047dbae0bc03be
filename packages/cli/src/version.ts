/** The package version this source belongs to. */
export const version = '0.0.0';
