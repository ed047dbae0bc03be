/** The package version this source belongs to. */
export const version = '0.0.0';

/** The npm package name, as recorded in model descriptions. */
export const PACKAGE_NAME = '@genrec/model-tiger';

/** The model kind (`Recommender.kind`, the `model` field of a saved folder). */
export const TIGER_KIND = 'tiger';

/** Format version of a saved TIGER model's own content (spec fields and tensor names). */
export const TIGER_FORMAT_VERSION = 1;
