/** npm name of this package. */
export const PACKAGE_NAME = '@genrec/serve';

/** The package version this source belongs to. */
export const version = '0.0.0';
