/** The package version this source belongs to. */
export const version = '0.0.0';

/** The npm package name, as recorded in model descriptions. */
export const PACKAGE_NAME = '@genrec/model-setrec';

/** The model kind (`Recommender.kind`, the `model` field of a saved folder). */
export const SETREC_KIND = 'setrec';

/** Format version of a saved SETRec model's own content (spec fields and tensor names). */
export const SETREC_FORMAT_VERSION = 1;
