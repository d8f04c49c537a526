/* nn/net/gpt.h — a small GPT (生成式预训练Transformer): predict the next token.
 *
 *   ids (B, T) -> token vectors (B, T, C) + position vectors (T, C)     (nn/net/position.h)
 *   -> N Transformer blocks with causal attention (B, T, C)             (nn/net/transformer.h)
 *   -> final LayerNorm -> head: logits (B, T, V) = x Wout  (or x E^T when tied to the table E)
 *      (+ a bias per token with cfg.head_bias)
 * Position t's logits are the model's guess for token t + 1, seen from tokens 0 .. t only
 * (the causal mask), so one forward pass trains T guesses per sequence at once, and the loss
 * is chapter 4's: nn_cross_entropy_loss(logits, targets) with targets = ids shifted by one.
 *
 *   nn_gpt_config cfg = {.vocab = V, .context = 64, .dim = 128, .heads = 4, .layers = 4};
 *   nn_gpt *gpt = nn_gpt_new(&cfg);
 *   nn_tensor *logits = nn_gpt_forward(gpt, ids, B, T);        // T <= context
 *   nn_tensor *loss = nn_cross_entropy_loss(logits, targets);
 *   ... nn_backward(loss), nn_optim_step on gpt->model ...
 *   nn_gpt_free(gpt);
 */
#ifndef NN_NET_GPT_H
#define NN_NET_GPT_H

#include "../core/model.h"
#include "../core/rng.h"
#include "../data/text.h"
#include "embedding.h"
#include "linear.h"
#include "position.h"
#include "sample.h"
#include "transformer.h"

typedef struct nn_gpt_config {
    int vocab;                   /* V: token ids 0 .. V-1 */
    int context;                 /* the longest sequence (block size) it reads */
    int dim;                     /* C: the width of every token vector */
    int heads;                   /* H, dividing C */
    int layers;                  /* N blocks */
    int ffn;                     /* the feed-forward's hidden size; 0 = 4 C */
    float dropout;               /* training-mode dropout after embeddings and in blocks; 0 */
    nn_position_kind position;   /* NN_POSITION_LEARNED (the default) or _SINUSOIDAL */
    bool untied;                 /* false: the head reuses the token table (weight tying,
                                  * V*C parameters fewer); true: a head of its own */
    bool head_bias;              /* a bias per token on the logits ("head.b" (V)), which can
                                  * hold how common each token is by itself; GPT-2 has none */
} nn_gpt_config;

typedef struct nn_gpt {
    nn_gpt_config cfg;           /* as given, ffn filled in */
    nn_model *model;             /* every parameter */
    nn_embedding_layer *tokens;  /* "tok.W" (V, C) */
    nn_embedding_layer *positions;   /* "pos.W" (context, C); NULL when sinusoidal */
    nn_transformer_block **blocks;   /* "block0" .. "block<N-1>" */
    nn_layer_norm_layer *ln_final;   /* "ln_f" */
    nn_tensor *head;             /* "head.W" (C, V); NULL when tied */
    nn_tensor *head_b;           /* "head.b" (V); NULL unless cfg.head_bias */
    bool recompute;              /* nn_gpt_generate without the KV cache (false) */
    struct nn_gpt_adapters *adapters;   /* LoRAs / adapters attached (nn/net/lora.h); NULL */
} nn_gpt;

/* 0 when cfg describes a model nn_gpt_new can build; otherwise -1 and, if why is not NULL,
 * what is wrong in why[0 .. size) (for a program checking its command line). */
int nn_gpt_config_check(const nn_gpt_config *cfg, char *why, size_t size);

/* The number of parameters (floats) the model of cfg has, from the formula in src/net/gpt.c,
 * without building it: as a double, so that the configs of real models (GPT-2's 124 million,
 * 7 billion) fit too. Memory is this times the bytes per number (4 for float32). */
double nn_gpt_config_parameters(const nn_gpt_config *cfg);

/* Checks the config (sizes >= 1, heads dividing dim, dropout in [0, 1)) and builds the model;
 * NULL with nn_last_error() on a bad config. Draws its initial weights from the global
 * generator (nn_seed first for a repeatable model). */
nn_gpt *nn_gpt_new(const nn_gpt_config *cfg);
void nn_gpt_free(nn_gpt *gpt);   /* NULL is fine */

/* ids (B, T) row-major, every id in 0 .. V-1, 1 <= T <= context -> logits (B, T, V). */
nn_tensor *nn_gpt_forward(nn_gpt *gpt, const int *ids, int B, int T);
/* The training loss for next tokens targets (B, T): the loss of
 * nn_cross_entropy_loss(nn_gpt_forward(gpt, ids, B, T), targets), equal up to rounding, with
 * the head and the loss as one op
 * (nn_linear_cross_entropy), so the B x T x V logits are never all held: for the benchmark
 * GPT (2048 positions, 2502 tokens) 20 MB less memory and three passes over it fewer. With
 * grad mode on, forward already does backward's products: evaluate with grad mode off. */
nn_tensor *nn_gpt_loss(nn_gpt *gpt, const int *ids, const int *targets, int B, int T);

/* ---- generation with a KV cache (键值缓存) ------------------------------------------------
 * Writing one token after another, an uncached model recomputes every position of the window
 * for each new token. The cache keeps every block's keys and values of the tokens read so
 * far, so each new token costs one position's work:
 *   nn_gpt_cache *c = nn_gpt_cache_new(gpt, 1);
 *   logits = nn_gpt_forward_cached(gpt, c, prompt, 1, n);     // (1, n, V), fills the cache
 *   logits = nn_gpt_forward_cached(gpt, c, &next, 1, 1);      // (1, 1, V): position n
 * The logits are those of nn_gpt_forward over the whole sequence (tests/test_transformer.c).
 * The cache holds at most `context` tokens: with absolute positions, sliding the window by
 * one moves every token to a new position, so a full window is recomputed (nn_gpt_generate
 * does that). Gradients must be off. */
typedef struct nn_gpt_cache {
    int B;                 /* sequences */
    int len;               /* tokens read so far (the next one sits at position len) */
    int layers;
    nn_kv_cache *kv;       /* one per block, capacity = context */
} nn_gpt_cache;

nn_gpt_cache *nn_gpt_cache_new(const nn_gpt *gpt, int B);
void nn_gpt_cache_reset(nn_gpt_cache *cache);   /* forget every token (len = 0) */
void nn_gpt_cache_free(nn_gpt_cache *cache);    /* NULL is fine */
/* ids (B, T): the T tokens after the cache->len already read; cache->len + T <= context.
 * Returns their logits (B, T, V) and appends them to the cache. */
nn_tensor *nn_gpt_forward_cached(nn_gpt *gpt, nn_gpt_cache *cache, const int *ids, int B, int T);

/* Keep each block's attention weights from the next forwards on (true) or stop (false).
 * nn_gpt_attention_weights(gpt, l) is then block l's (B, H, T, T) from the last forward, a
 * graph tensor (gone at nn_graph_clear); NULL when not kept or l is out of range. */
void nn_gpt_keep_attention(nn_gpt *gpt, bool keep);
nn_tensor *nn_gpt_attention_weights(const nn_gpt *gpt, int layer);

/* Write n_new tokens after the prompt ids[0 .. n_prompt) (n_prompt >= 1) into out[0 ..
 * n_new), sampling with s (nn/net/sample.h) from rng (NULL = the global one). Each step
 * sees the last `context` tokens (the prompt and what it wrote so far), without gradients,
 * in eval mode, in constant memory (a graph mark and rewind), with a KV cache unless
 * gpt->recompute is set (then every step runs nn_gpt_forward over the window: the same
 * tokens, slower; for comparison). Stops early after writing `stop` (a token id; -1 =
 * never). Returns the number written, or -1 on bad arguments. */
int nn_gpt_generate(nn_gpt *gpt, const int *prompt, int n_prompt, int n_new, nn_sampling s,
                    nn_rng *rng, int stop, int *out);

/* Save the config, the vocabulary and the weights into the folder dir (made if missing):
 * dir/gpt.cfg (the config as "key = value" lines, for people and for nn_gpt_load),
 * dir/gpt.nnvc (nn_vocab_save) and dir/gpt.nnck (nn_model_save). Each file is written
 * whole or not at all. vocab may be NULL (a model over ids only). 0, or -1 with
 * nn_last_error(). The vocabulary's size must equal cfg.vocab. */
int nn_gpt_save(const nn_gpt *gpt, const nn_vocab *vocab, const char *dir);
/* Rebuild the model described by dir/gpt.cfg and load dir/gpt.nnck into it; if vocab is
 * not NULL, also load dir/gpt.nnvc into *vocab (its size must match). NULL on any problem,
 * with nn_last_error() naming the file and what is wrong; nothing is left allocated. */
nn_gpt *nn_gpt_load(const char *dir, nn_vocab **vocab);

#endif
