/**
 * SASRec for genrec: a self-attentive sequential recommender with full-softmax, BCE or sampled-softmax training, implementing the Recommender contract.
 *
 * @packageDocumentation
 * @module @genrec/model-sasrec
 */

/** The package version this source belongs to. */
export const version = '0.0.0';
