/* nn/data/vector_index.h — a small vector database (向量数据库): documents found by the
 * direction of their vectors (向量检索, vector retrieval), kept in an NNVX file, for chapter 6's
 * knowledge base (知识库) and retrieval-augmented generation (RAG).
 *
 * What it is. A knowledge base is a pile of documents (every Tang poem with its title and
 * author, say). To answer a question from it, a program must find the few documents that
 * are about the same thing as the question, fast, without reading them all with a language
 * model. A vector database does that with arithmetic: an embedding (词嵌入, chapter 4) turns
 * each document into a vector of `dim` numbers, chosen so that texts about similar things
 * point in similar directions. The question becomes a vector the same way, and "the
 * documents most like the question" becomes "the stored vectors closest in direction to the
 * query vector": the k nearest neighbours. Each entry here is such a vector together with its
 * document: a UTF-8 text and an integer tag (a poem's number, a label: yours to choose).
 *
 * Why cosine. Direction, not length, is what an embedding's meaning sits in: a long poem and
 * a short one about the moon should match a question about the moon equally, although a sum
 * of character vectors grows with the length of the text. The cosine of the angle between two
 * vectors (余弦相似度, nn/ops/similarity.h) ignores length:
 *   cos(a, b) = a.b / (|a| |b|)        1 same direction, 0 unrelated, -1 opposite
 *
 * Why normalise once, at insertion. cos(a, b) is the dot product of a / |a| and b / |b|. So
 * the index divides each vector by its length when it is added and stores the unit vector;
 * a search divides the query once, and then the score of each entry is one dot product of
 * `dim` multiply-adds, with no square root and no division per entry. (The same trick makes
 * a whole search one matrix-vector product, which is how large vector databases run on a
 * GPU.) A vector of length 0 has no direction, and no question could ever find it, so it is
 * refused rather than stored; so is a vector with a NaN or an infinity in it.
 *
 * Why brute force. The search scores every entry, sorts the scores and keeps the k best:
 * exact, and O(count * dim) for the scores. For a knowledge base of thousands of documents
 * that is a few million multiply-adds: 5000 documents of 256 dimensions take about a
 * millisecond on one core, less than one step of a language model. Large databases
 * (millions of vectors) use approximate indexes instead (clustering as in IVF, graphs as in
 * HNSW) that look at a small part of the entries and may miss a true neighbour; their results
 * are measured against exactly this brute-force search (recall@k).
 *
 *   nn_vector_index *ix = nn_vector_index_new(64);            // vectors of 64 numbers
 *   for (int p = 0; p < npoems; p++) {
 *       embed(poems[p], vec);                                 // your embedding, float[64]
 *       nn_vector_index_add(ix, vec, poems[p], strlen(poems[p]), p);
 *   }
 *   nn_vector_index_save(ix, "poems.nnvx");
 *   ...
 *   nn_vector_index *kb = nn_vector_index_load("poems.nnvx"); // NULL: see nn_last_error()
 *   int ids[3];  float cos[3];
 *   embed("《静夜思》的作者是谁？", vec);
 *   int n = nn_vector_index_search(kb, vec, 3, ids, cos);     // the 3 best, best first
 *   for (int i = 0; i < n; i++)
 *       printf("%.3f %s\n", cos[i], nn_vector_index_text(kb, ids[i], NULL));
 *
 * Errors. Passing NULL, a dimension or k out of range, or an id that is not in the index is
 * misuse (nn_fail, with your file:line). A vector or text that cannot be stored (zero, not
 * finite, not UTF-8, too long) is bad input: it comes from data, not from a mistake in the
 * code, so the call returns -1 with the reason in nn_last_error(), the index is unchanged,
 * and the program can skip that document and go on. A damaged file is bad input too.
 */
#ifndef NN_DATA_VECTOR_INDEX_H
#define NN_DATA_VECTOR_INDEX_H

#include <stddef.h>

#define NN_VECTOR_INDEX_MAX_DIM 65536        /* dimensions of a vector: 1 .. this */
#define NN_VECTOR_INDEX_MAX_TEXT (1u << 20)  /* bytes of one document's text (1 MiB) */

typedef struct nn_vector_index nn_vector_index;   /* private: use the functions below */

/* An empty index of dim-dimensional vectors (1 <= dim <= NN_VECTOR_INDEX_MAX_DIM). Free it
 * with nn_vector_index_free. */
nn_vector_index *nn_vector_index_new(int dim);
void nn_vector_index_free(nn_vector_index *ix);   /* NULL is fine */

int nn_vector_index_dim(const nn_vector_index *ix);
int nn_vector_index_count(const nn_vector_index *ix);   /* entries; ids are 0 .. count-1 */

/* Add vec[0 .. dim) with its document text[0 .. len) (UTF-8, at most
 * NN_VECTOR_INDEX_MAX_TEXT bytes; copied; NULL with len 0 is an empty text) and tag.
 * The vector is stored divided by its length. Returns the entry's id (the count before the
 * call), or -1: with nn_last_error() when the vector is zero or not finite or the text is
 * not valid UTF-8 or too long (the index is unchanged), or after misuse. */
int nn_vector_index_add(nn_vector_index *ix, const float *vec, const char *text, size_t len,
                        int tag);

/* The k entries most similar to query[0 .. dim) by cosine similarity, best first, the lower
 * id first among equal scores. Writes ids[0 .. n) and, unless scores is NULL, their cosines
 * scores[0 .. n) (in -1 .. 1), and returns n = min(k, count) (0 for an empty index). k >= 1.
 * A zero or non-finite query is bad input: -1 with nn_last_error(). -1 after misuse. */
int nn_vector_index_search(const nn_vector_index *ix, const float *query, int k, int *ids,
                           float *scores);

/* Entry id's document: its text (with a NUL after it; the length in bytes goes to *len
 * unless len is NULL; the text may hold NUL bytes of its own), valid until the index is
 * freed; its tag; and its stored unit vector (dim values), valid until the next add. An id
 * outside 0 .. count-1 is misuse (then NULL, or 0 for the tag). */
const char *nn_vector_index_text(const nn_vector_index *ix, int id, size_t *len);
int nn_vector_index_tag(const nn_vector_index *ix, int id);
const float *nn_vector_index_vector(const nn_vector_index *ix, int id);

/* ---- files ------------------------------------------------------------------------------
 * A vector index file ("poems.nnvx"), version 1; integers uint32 little-endian, values
 * IEEE-754 float32 little-endian (docs/en/checkpoint-format.md, "Vector index files"):
 *
 *   "NNVX"             4 bytes, the magic
 *   version            1
 *   dim                1 .. NN_VECTOR_INDEX_MAX_DIM
 *   count              number of entries
 *   count times:       tag (int32, two's complement), text length L (0 .. 1 MiB),
 *                      L bytes of UTF-8 text (no NUL), dim float32 values (a unit vector)
 *   crc                CRC-32 (zlib's crc32) of every byte before it
 *
 * Saving writes "<path>.tmp.XXXXXX" in the same folder, fsyncs it and renames it onto path,
 * so a crash leaves the old file or the new one, never a broken one. 0, or -1 with
 * nn_last_error(). */
int nn_vector_index_save(const nn_vector_index *ix, const char *path);

/* Load a file nn_vector_index_save wrote. A regular file is refused from its first 16 bytes
 * and its size before its body is read (a count that cannot fit in the file, or a file far
 * larger than its count of entries could be), so a huge count or a huge file costs no huge
 * allocation. Then every byte is checked before the index is built: each length against the
 * bytes really there, the CRC-32, every text valid UTF-8, every value finite and every vector
 * of length 1. NULL with nn_last_error() naming the file and the first problem. */
nn_vector_index *nn_vector_index_load(const char *path);

#endif
