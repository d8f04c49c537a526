/* src/net/optim.c — SGD (with momentum), Adam, AdamW and gradient clipping.
 * All loops run over the model's one parameter block; `decay` decides per parameter tensor
 * whether weight decay applies (weights yes, biases no). */
#include "internal.h"
#include "nn/net/optim.h"

/* A learning rate, momentum or decay that makes no sense is misuse: training would quietly
 * go uphill or blow up, so say so now. */
static bool hyper_ok(const char *op, float lr, float momentum, float weight_decay) {
    if (!(lr > 0.0f) || !isfinite(lr)) {
        nn_fail(op, "typical values: SGD 0.01 .. 0.5, Adam 1e-4 .. 1e-2",
                "learning rate %g must be positive and finite", lr);
        return false;
    }
    if (!(momentum >= 0.0f && momentum < 1.0f)) {
        nn_fail(op, "0 means plain SGD; 0.9 is the usual choice",
                "momentum %g must be in [0, 1)", momentum);
        return false;
    }
    if (!(weight_decay >= 0.0f) || !isfinite(weight_decay)) {
        nn_fail(op, "0 turns it off; 1e-4 .. 1e-2 is typical (AdamW: up to ~0.1)",
                "weight decay %g must be >= 0 and finite", weight_decay);
        return false;
    }
    return true;
}

static nn_optim *optim_new(nn_model *model, nn_optim_kind kind, float lr) {
    nn_optim *o = nn_xcalloc(1, sizeof *o);
    o->kind = kind;
    o->model = model;
    o->lr = lr;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->count = model->count;
    o->m = nn_xcalloc(model->count, sizeof(float));
    o->steps = nn_xcalloc((size_t)model->nparams, sizeof(long));
    if (kind == NN_OPTIM_ADAM) o->v = nn_xcalloc(model->count, sizeof(float));
    return o;
}

nn_optim *nn_sgd_new(nn_model *model, float lr, float momentum, float weight_decay) {
    NN_REQUIRE(model, "nn_sgd_new");
    if (!hyper_ok("nn_sgd_new", lr, momentum, weight_decay)) return NULL;
    nn_optim *o = optim_new(model, NN_OPTIM_SGD, lr);
    o->momentum = momentum;
    o->weight_decay = weight_decay;
    return o;
}

nn_optim *nn_adam_new(nn_model *model, float lr, float weight_decay) {
    NN_REQUIRE(model, "nn_adam_new");
    if (!hyper_ok("nn_adam_new", lr, 0.0f, weight_decay)) return NULL;
    nn_optim *o = optim_new(model, NN_OPTIM_ADAM, lr);
    o->weight_decay = weight_decay;
    return o;
}

nn_optim *nn_adamw_new(nn_model *model, float lr, float weight_decay) {
    nn_optim *o = nn_adam_new(model, lr, weight_decay);
    if (o) o->decoupled = true;
    return o;
}

void nn_optim_free(nn_optim *o) {
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o->steps);
    free(o);
}

/* A NaN or infinite gradient would turn every weight it touches into NaN, for good. Find the
 * first one, among the parameters this step trains, before any weight changes; report it
 * (misuse, for `op`) with the parameter's name and the element. One pass over the gradients
 * that costs little next to the update itself. false when one was found. */
static bool grads_finite(const char *op, const nn_model *model) {
    for (int p = 0; p < model->nparams; p++) {
        const nn_tensor *t = model->params[p];
        if (!t->requires_grad || nn_find_nonfinite(t->grad, t->size) == t->size) continue;
        char bad[256];
        nn_nonfinite_str(t, t->grad, true, bad, sizeof bad);
        nn_fail(op, "nothing was changed. The loss or a gradient overflowed: lower the "
                "learning rate, clip the gradients (nn_clip_grad_norm), check the data for "
                "NaN/Inf, keep nn_log / nn_sqrt / nn_div away from 0; nn_check_finite(t, "
                "\"name\") finds the first bad value of any tensor",
                "parameter '%s' has a gradient that is not finite: %s", t->name, bad);
        return false;
    }
    return true;
}

/* The updates of one parameter's `len` floats. The settings are passed as values (not read
 * through o inside the loop): a store into w or m could otherwise alias o's fields, forcing
 * the compiler to reload them on every element and keeping the loop scalar. With restrict
 * and one loop per case, each loop is a straight vector loop at memory speed. */
/* Each element's update is its own, so the threads share a long parameter out (the char
 * model's head, 320,000 floats; from PARALLEL_MIN_STREAM on) with the same result as one
 * thread. */

static void sgd_update(float *restrict w, const float *restrict g, float *restrict m,
                       size_t len, float lr, float wd, float momentum) {
    if (momentum > 0.0f) {
#pragma omp parallel for simd schedule(static) if ((long)len > PARALLEL_MIN_STREAM)
        for (size_t i = 0; i < len; i++) {
            m[i] = momentum * m[i] + (g[i] + wd * w[i]);   /* velocity; L2: d(wd/2 w^2) = wd w */
            w[i] -= lr * m[i];
        }
    } else {
#pragma omp parallel for simd schedule(static) if ((long)len > PARALLEL_MIN_STREAM)
        for (size_t i = 0; i < len; i++) w[i] -= lr * (g[i] + wd * w[i]);
    }
}

static void adam_update(float *restrict w, const float *restrict g, float *restrict m,
                        float *restrict v, size_t len, const nn_optim *o, float wd, float bc1,
                        float bc2) {
    const float b1 = o->beta1, b2 = o->beta2, eps = o->eps, lr = o->lr;
    if (o->decoupled) { /* AdamW: the decay acts on w directly, not through the moments */
#pragma omp parallel for simd schedule(static) if ((long)len > PARALLEL_MIN_STREAM)
        for (size_t i = 0; i < len; i++) {
            m[i] = b1 * m[i] + (1.0f - b1) * g[i];           /* mean of g */
            v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];    /* mean of g^2 */
            float step = (m[i] / bc1) / (sqrtf(v[i] / bc2) + eps);
            w[i] -= lr * wd * w[i];
            w[i] -= lr * step;
        }
    } else {
#pragma omp parallel for simd schedule(static) if ((long)len > PARALLEL_MIN_STREAM)
        for (size_t i = 0; i < len; i++) {
            float gi = g[i] + wd * w[i];
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            float step = (m[i] / bc1) / (sqrtf(v[i] / bc2) + eps);
            w[i] -= lr * step;
        }
    }
}

void nn_optim_step(nn_optim *o) {
    NN_REQUIRE_OR(o, "nn_optim_step", );
    nn_model *model = o->model;
    if (model->count != o->count) {
        nn_fail("nn_optim_step", "create the optimizer after the whole model is built",
                "the model has %zu parameters now but had %zu when the optimizer was made",
                model->count, o->count);
        return;
    }
    if (!grads_finite("nn_optim_step", model)) return;
    o->t++;
    size_t offset = 0;
    for (int p = 0; p < model->nparams; p++) {
        size_t len = model->params[p]->size;
        float wd = model->decay[p] ? o->weight_decay : 0.0f;
        float *w = model->data + offset, *g = model->grad + offset;
        float *m = o->m + offset, *v = o->v ? o->v + offset : NULL;
        offset += len;
        if (!model->params[p]->requires_grad) continue;   /* frozen: not even decayed */
        /* this gradient is used now: it must be zeroed before the next backward */
        model->params[p]->grad_state |= NN_GRAD_STEPPED;
        /* Adam's moments start at 0, so early averages are biased low; dividing by
         * (1 - beta^t) undoes that. t counts this parameter's own steps, so a parameter
         * unfrozen late starts its correction afresh (as PyTorch counts per parameter). */
        long t = ++o->steps[p];
        float bc1 = 1.0f - powf(o->beta1, (float)t);
        float bc2 = 1.0f - powf(o->beta2, (float)t);
        if (o->kind == NN_OPTIM_SGD) sgd_update(w, g, m, len, o->lr, wd, o->momentum);
        else adam_update(w, g, m, v, len, o, wd, bc1, bc2);
    }
}

float nn_clip_grad_norm(nn_model *model, float max_norm) {
    NN_REQUIRE_OR(model, "nn_clip_grad_norm", NAN);
    if (!(max_norm > 0.0f)) {
        nn_fail("nn_clip_grad_norm", "a negative or zero limit would flip or erase every "
                "gradient; 1.0 or 5.0 are common", "max_norm %g must be positive", max_norm);
        return NAN;
    }
    float norm = nn_model_grad_norm(model);   /* over the trainable parameters */
    /* A NaN or infinite gradient makes the norm NaN or inf, and clipping cannot fix that:
     * report it, with the gradients left as they are. */
    if (!isfinite(norm) && !grads_finite("nn_clip_grad_norm", model)) return NAN;
    if (norm > max_norm && norm > 0.0f) {
        float scale = max_norm / norm;
        if (isinf(norm)) {   /* finite gradients whose norm is beyond float: scale in double */
            double s = 0.0;
            for (int p = 0; p < model->nparams; p++) {
                const nn_tensor *t = model->params[p];
                if (!t->requires_grad) continue;
                for (size_t i = 0; i < t->size; i++) s += (double)t->grad[i] * t->grad[i];
            }
            scale = (float)(max_norm / sqrt(s));
        }
        for (int p = 0; p < model->nparams; p++) {
            nn_tensor *t = model->params[p];
            if (!t->requires_grad) continue;
            for (size_t i = 0; i < t->size; i++) t->grad[i] *= scale;
        }
    }
    return norm;
}
