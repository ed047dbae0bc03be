/** npm name of this package, as models report it in `describe().package`. */
export const PACKAGE_NAME = '@genrec/model-baselines';

/** The package version this source belongs to. */
export const version = '0.0.0';
