/* nn/call_sites.h — every public function that can report misuse, wrapped so that its error
 * names the line of YOUR program that made the call ("called at train.c:42").
 *
 *   #define nn_add(...) NN_AT(nn_add(__VA_ARGS__))
 *
 * NN_AT (nn/core/errors.h) records __FILE__ and __LINE__, then makes the call. nn.h includes
 * this header last, and only for user code: the library's own sources define
 * NN_BUILDING_LIBRARY and never see these macros, so a call inside the library keeps the
 * user's site, and every function is defined plainly (ctags and IDEs find it).
 * tests/check_call_sites.sh fails when a public function that can report an error has no
 * line here. Functions that cannot fail (nn_seconds, nn_rng_u32, ...) have none.
 */
#ifndef NN_CALL_SITES_H
#define NN_CALL_SITES_H
#ifndef NN_BUILDING_LIBRARY

/* core/tensor.h */
#define nn_zeros(...) NN_AT(nn_zeros(__VA_ARGS__))
#define nn_ones(...) NN_AT(nn_ones(__VA_ARGS__))
#define nn_full(...) NN_AT(nn_full(__VA_ARGS__))
#define nn_from_array(...) NN_AT(nn_from_array(__VA_ARGS__))
#define nn_scalar(...) NN_AT(nn_scalar(__VA_ARGS__))
#define nn_rand_uniform(...) NN_AT(nn_rand_uniform(__VA_ARGS__))
#define nn_rand_normal(...) NN_AT(nn_rand_normal(__VA_ARGS__))
#define nn_clone(...) NN_AT(nn_clone(__VA_ARGS__))
#define nn_tensor_free(...) NN_AT(nn_tensor_free(__VA_ARGS__))
#define nn_requires_grad(...) NN_AT(nn_requires_grad(__VA_ARGS__))
#define nn_item(...) NN_AT(nn_item(__VA_ARGS__))
/* nn_at counts its indices: nn_at(t, i, j) is nn_at_checked(2, t, i, j), which refuses a
 * count that is not t's ndim (NN_NARGS is in nn/core/tensor.h). */
#define nn_at(...) NN_AT((nn_at_checked)(NN_NARGS(__VA_ARGS__) - 1, __VA_ARGS__))
#define nn_at_checked(...) NN_AT(nn_at_checked(__VA_ARGS__))
#define nn_check_finite(...) NN_AT(nn_check_finite(__VA_ARGS__))
#define nn_tensor_fprint(...) NN_AT(nn_tensor_fprint(__VA_ARGS__))
#define nn_zero_grad(...) NN_AT(nn_zero_grad(__VA_ARGS__))
#define nn_fill(...) NN_AT(nn_fill(__VA_ARGS__))
#define nn_fill_uniform(...) NN_AT(nn_fill_uniform(__VA_ARGS__))
#define nn_fill_normal(...) NN_AT(nn_fill_normal(__VA_ARGS__))
#define nn_copy_into(...) NN_AT(nn_copy_into(__VA_ARGS__))

/* core/graph.h */
#define nn_backward(...) NN_AT(nn_backward(__VA_ARGS__))
#define nn_keep(...) NN_AT(nn_keep(__VA_ARGS__))
#define nn_detach(...) NN_AT(nn_detach(__VA_ARGS__))
#define nn_graph_mark(...) NN_AT(nn_graph_mark(__VA_ARGS__))
#define nn_graph_rewind(...) NN_AT(nn_graph_rewind(__VA_ARGS__))
#define nn_record(...) NN_AT(nn_record(__VA_ARGS__))
#define nn_record_n(...) NN_AT(nn_record_n(__VA_ARGS__))
#define nn_graph_tensor(...) NN_AT(nn_graph_tensor(__VA_ARGS__))
#define nn_arena_alloc(...) NN_AT(nn_arena_alloc(__VA_ARGS__))

/* core/model.h */
#define nn_model_param(...) NN_AT(nn_model_param(__VA_ARGS__))
#define nn_model_alloc(...) NN_AT(nn_model_alloc(__VA_ARGS__))
#define nn_model_zero_grad(...) NN_AT(nn_model_zero_grad(__VA_ARGS__))
#define nn_model_freeze(...) NN_AT(nn_model_freeze(__VA_ARGS__))
#define nn_model_unfreeze(...) NN_AT(nn_model_unfreeze(__VA_ARGS__))
#define nn_model_trainable_count(...) NN_AT(nn_model_trainable_count(__VA_ARGS__))
#define nn_model_find(...) NN_AT(nn_model_find(__VA_ARGS__))
#define nn_model_summary(...) NN_AT(nn_model_summary(__VA_ARGS__))
#define nn_model_grad_norm(...) NN_AT(nn_model_grad_norm(__VA_ARGS__))
#define nn_model_weight_norm(...) NN_AT(nn_model_weight_norm(__VA_ARGS__))
#define nn_model_check_finite(...) NN_AT(nn_model_check_finite(__VA_ARGS__))

/* core/gradcheck.h */
#define nn_gradcheck(...) NN_AT(nn_gradcheck(__VA_ARGS__))

/* ops/elementwise.h */
#define nn_add(...) NN_AT(nn_add(__VA_ARGS__))
#define nn_sub(...) NN_AT(nn_sub(__VA_ARGS__))
#define nn_mul(...) NN_AT(nn_mul(__VA_ARGS__))
#define nn_div(...) NN_AT(nn_div(__VA_ARGS__))
#define nn_add_scalar(...) NN_AT(nn_add_scalar(__VA_ARGS__))
#define nn_mul_scalar(...) NN_AT(nn_mul_scalar(__VA_ARGS__))
#define nn_neg(...) NN_AT(nn_neg(__VA_ARGS__))
#define nn_pow(...) NN_AT(nn_pow(__VA_ARGS__))
#define nn_square(...) NN_AT(nn_square(__VA_ARGS__))
#define nn_sqrt(...) NN_AT(nn_sqrt(__VA_ARGS__))
#define nn_exp(...) NN_AT(nn_exp(__VA_ARGS__))
#define nn_log(...) NN_AT(nn_log(__VA_ARGS__))
#define nn_abs(...) NN_AT(nn_abs(__VA_ARGS__))
#define nn_sin(...) NN_AT(nn_sin(__VA_ARGS__))
#define nn_cos(...) NN_AT(nn_cos(__VA_ARGS__))
#define nn_sigmoid(...) NN_AT(nn_sigmoid(__VA_ARGS__))
#define nn_tanh(...) NN_AT(nn_tanh(__VA_ARGS__))
#define nn_relu(...) NN_AT(nn_relu(__VA_ARGS__))
#define nn_leaky_relu(...) NN_AT(nn_leaky_relu(__VA_ARGS__))
#define nn_gelu_erf(...) NN_AT(nn_gelu_erf(__VA_ARGS__))
#define nn_gelu_tanh(...) NN_AT(nn_gelu_tanh(__VA_ARGS__))
#define nn_clamp(...) NN_AT(nn_clamp(__VA_ARGS__))
#define nn_masked_fill(...) NN_AT(nn_masked_fill(__VA_ARGS__))

/* ops/matmul.h */
#define nn_matmul(...) NN_AT(nn_matmul(__VA_ARGS__))
#define nn_linear(...) NN_AT(nn_linear(__VA_ARGS__))
#define nn_sgemm(...) NN_AT(nn_sgemm(__VA_ARGS__))
#define nn_set_gemm_path(...) NN_AT(nn_set_gemm_path(__VA_ARGS__))
#define nn_set_matmul_reference(...) NN_AT(nn_set_matmul_reference(__VA_ARGS__))

/* ops/shape.h */
#define nn_transpose(...) NN_AT(nn_transpose(__VA_ARGS__))
#define nn_reshape(...) NN_AT(nn_reshape(__VA_ARGS__))
#define nn_rows(...) NN_AT(nn_rows(__VA_ARGS__))
#define nn_take_rows(...) NN_AT(nn_take_rows(__VA_ARGS__))
#define nn_copy(...) NN_AT(nn_copy(__VA_ARGS__))
#define nn_slice(...) NN_AT(nn_slice(__VA_ARGS__))
#define nn_concat(...) NN_AT(nn_concat(__VA_ARGS__))
#define nn_stack(...) NN_AT(nn_stack(__VA_ARGS__))
#define nn_split(...) NN_AT(nn_split(__VA_ARGS__))
#define nn_chunk(...) NN_AT(nn_chunk(__VA_ARGS__))
#define nn_permute(...) NN_AT(nn_permute(__VA_ARGS__))

/* ops/reduce.h */
#define nn_sum(...) NN_AT(nn_sum(__VA_ARGS__))
#define nn_mean(...) NN_AT(nn_mean(__VA_ARGS__))
#define nn_sum_axis(...) NN_AT(nn_sum_axis(__VA_ARGS__))
#define nn_mean_axis(...) NN_AT(nn_mean_axis(__VA_ARGS__))
#define nn_max_axis(...) NN_AT(nn_max_axis(__VA_ARGS__))
#define nn_argmax_rows(...) NN_AT(nn_argmax_rows(__VA_ARGS__))

/* ops/softmax.h */
#define nn_softmax(...) NN_AT(nn_softmax(__VA_ARGS__))
#define nn_softmax_axis(...) NN_AT(nn_softmax_axis(__VA_ARGS__))
#define nn_log_softmax(...) NN_AT(nn_log_softmax(__VA_ARGS__))
#define nn_log_softmax_axis(...) NN_AT(nn_log_softmax_axis(__VA_ARGS__))
#define nn_logsumexp(...) NN_AT(nn_logsumexp(__VA_ARGS__))

/* ops/conv.h */
#define nn_conv2d(...) NN_AT(nn_conv2d(__VA_ARGS__))
#define nn_conv2d_relu(...) NN_AT(nn_conv2d_relu(__VA_ARGS__))
#define nn_conv2d_relu_maxpool2d(...) NN_AT(nn_conv2d_relu_maxpool2d(__VA_ARGS__))
#define nn_max_pool2d(...) NN_AT(nn_max_pool2d(__VA_ARGS__))
#define nn_avg_pool2d(...) NN_AT(nn_avg_pool2d(__VA_ARGS__))
#define nn_flatten(...) NN_AT(nn_flatten(__VA_ARGS__))

/* ops/one_hot.h */
#define nn_one_hot(...) NN_AT(nn_one_hot(__VA_ARGS__))

/* ops/similarity.h */
#define nn_cosine_similarity(...) NN_AT(nn_cosine_similarity(__VA_ARGS__))
#define nn_nearest_rows(...) NN_AT(nn_nearest_rows(__VA_ARGS__))

/* ops/embedding.h */
#define nn_embedding(...) NN_AT(nn_embedding(__VA_ARGS__))

/* ops/layer_norm.h */
#define nn_layer_norm(...) NN_AT(nn_layer_norm(__VA_ARGS__))

/* ops/attention.h */
#define nn_attention(...) NN_AT(nn_attention(__VA_ARGS__))

/* ops/gru.h */
#define nn_gru_sequence(...) NN_AT(nn_gru_sequence(__VA_ARGS__))

/* ops/quant.h */
#define nn_q8_quantize(...) NN_AT(nn_q8_quantize(__VA_ARGS__))
#define nn_q8_dequantize(...) NN_AT(nn_q8_dequantize(__VA_ARGS__))
#define nn_q4_quantize(...) NN_AT(nn_q4_quantize(__VA_ARGS__))
#define nn_q4_dequantize(...) NN_AT(nn_q4_dequantize(__VA_ARGS__))
#define nn_q8_roundtrip(...) NN_AT(nn_q8_roundtrip(__VA_ARGS__))
#define nn_q4_roundtrip(...) NN_AT(nn_q4_roundtrip(__VA_ARGS__))
#define nn_quant_roundtrip_param(...) NN_AT(nn_quant_roundtrip_param(__VA_ARGS__))
#define nn_q8_weights_new(...) NN_AT(nn_q8_weights_new(__VA_ARGS__))
#define nn_q8_weights_from_linear(...) NN_AT(nn_q8_weights_from_linear(__VA_ARGS__))
#define nn_q8_matmul(...) NN_AT(nn_q8_matmul(__VA_ARGS__))
#define nn_q8_linear_forward(...) NN_AT(nn_q8_linear_forward(__VA_ARGS__))
#define nn_set_q8_kernel(...) NN_AT(nn_set_q8_kernel(__VA_ARGS__))
#define nn_model_save_quantized(...) NN_AT(nn_model_save_quantized(__VA_ARGS__))
#define nn_model_load_quantized(...) NN_AT(nn_model_load_quantized(__VA_ARGS__))

/* net/init.h */
#define nn_init_xavier(...) NN_AT(nn_init_xavier(__VA_ARGS__))
#define nn_init_he(...) NN_AT(nn_init_he(__VA_ARGS__))

/* net/linear.h */
#define nn_linear_layer_forward(...) NN_AT(nn_linear_layer_forward(__VA_ARGS__))
#define nn_linear_layer_new(...) NN_AT(nn_linear_layer_new(__VA_ARGS__))

/* net/conv_layer.h */
#define nn_conv2d_layer_new(...) NN_AT(nn_conv2d_layer_new(__VA_ARGS__))
#define nn_conv2d_layer_forward(...) NN_AT(nn_conv2d_layer_forward(__VA_ARGS__))
#define nn_conv2d_layer_forward_relu(...) NN_AT(nn_conv2d_layer_forward_relu(__VA_ARGS__))
#define nn_conv2d_layer_forward_relu_maxpool(...) NN_AT(nn_conv2d_layer_forward_relu_maxpool(__VA_ARGS__))

/* net/embedding.h */
#define nn_embedding_layer_new(...) NN_AT(nn_embedding_layer_new(__VA_ARGS__))
#define nn_embedding_layer_forward(...) NN_AT(nn_embedding_layer_forward(__VA_ARGS__))

/* net/rnn.h */
#define nn_rnn_layer_new(...) NN_AT(nn_rnn_layer_new(__VA_ARGS__))
#define nn_rnn_layer_forward(...) NN_AT(nn_rnn_layer_forward(__VA_ARGS__))
#define nn_rnn_layer_step(...) NN_AT(nn_rnn_layer_step(__VA_ARGS__))
#define nn_rnn_state_keep(...) NN_AT(nn_rnn_state_keep(__VA_ARGS__))
#define nn_rnn_state_free(...) NN_AT(nn_rnn_state_free(__VA_ARGS__))

/* net/layer_norm.h */
#define nn_layer_norm_layer_new(...) NN_AT(nn_layer_norm_layer_new(__VA_ARGS__))
#define nn_layer_norm_layer_forward(...) NN_AT(nn_layer_norm_layer_forward(__VA_ARGS__))

/* net/position.h */
#define nn_sinusoidal_positions(...) NN_AT(nn_sinusoidal_positions(__VA_ARGS__))

/* net/attention.h */
#define nn_attention_layer_new(...) NN_AT(nn_attention_layer_new(__VA_ARGS__))
#define nn_attention_layer_forward(...) NN_AT(nn_attention_layer_forward(__VA_ARGS__))
#define nn_attention_layer_forward_cached(...) NN_AT(nn_attention_layer_forward_cached(__VA_ARGS__))

/* net/transformer.h */
#define nn_transformer_block_new(...) NN_AT(nn_transformer_block_new(__VA_ARGS__))
#define nn_transformer_block_forward(...) NN_AT(nn_transformer_block_forward(__VA_ARGS__))
#define nn_transformer_block_forward_cached(...) NN_AT(nn_transformer_block_forward_cached(__VA_ARGS__))

/* net/gpt.h */
#define nn_gpt_new(...) NN_AT(nn_gpt_new(__VA_ARGS__))
#define nn_gpt_forward(...) NN_AT(nn_gpt_forward(__VA_ARGS__))
#define nn_gpt_loss(...) NN_AT(nn_gpt_loss(__VA_ARGS__))
#define nn_gpt_cache_new(...) NN_AT(nn_gpt_cache_new(__VA_ARGS__))
#define nn_gpt_forward_cached(...) NN_AT(nn_gpt_forward_cached(__VA_ARGS__))
#define nn_gpt_cache_free(...) NN_AT(nn_gpt_cache_free(__VA_ARGS__))
#define nn_gpt_generate(...) NN_AT(nn_gpt_generate(__VA_ARGS__))
#define nn_gpt_save(...) NN_AT(nn_gpt_save(__VA_ARGS__))
#define nn_gpt_load(...) NN_AT(nn_gpt_load(__VA_ARGS__))

/* net/lora.h */
#define nn_lora_new(...) NN_AT(nn_lora_new(__VA_ARGS__))
#define nn_lora_forward(...) NN_AT(nn_lora_forward(__VA_ARGS__))
#define nn_lora_linear_forward(...) NN_AT(nn_lora_linear_forward(__VA_ARGS__))
#define nn_lora_merge(...) NN_AT(nn_lora_merge(__VA_ARGS__))
#define nn_adapter_new(...) NN_AT(nn_adapter_new(__VA_ARGS__))
#define nn_adapter_forward(...) NN_AT(nn_adapter_forward(__VA_ARGS__))
#define nn_gpt_lora_attach(...) NN_AT(nn_gpt_lora_attach(__VA_ARGS__))
#define nn_gpt_lora_count(...) NN_AT(nn_gpt_lora_count(__VA_ARGS__))
#define nn_gpt_lora_merge(...) NN_AT(nn_gpt_lora_merge(__VA_ARGS__))
#define nn_gpt_lora_remove(...) NN_AT(nn_gpt_lora_remove(__VA_ARGS__))
#define nn_gpt_lora_save(...) NN_AT(nn_gpt_lora_save(__VA_ARGS__))
#define nn_gpt_lora_load(...) NN_AT(nn_gpt_lora_load(__VA_ARGS__))
#define nn_gpt_quantize_base(...) NN_AT(nn_gpt_quantize_base(__VA_ARGS__))

/* net/dropout.h */
#define nn_dropout(...) NN_AT(nn_dropout(__VA_ARGS__))

/* net/loss.h */
#define nn_mae_loss(...) NN_AT(nn_mae_loss(__VA_ARGS__))
#define nn_mse_loss(...) NN_AT(nn_mse_loss(__VA_ARGS__))
#define nn_cross_entropy_loss(...) NN_AT(nn_cross_entropy_loss(__VA_ARGS__))
#define nn_linear_cross_entropy(...) NN_AT(nn_linear_cross_entropy(__VA_ARGS__))
#define nn_bce_with_logits_loss(...) NN_AT(nn_bce_with_logits_loss(__VA_ARGS__))

/* net/penalty.h */
#define nn_l1_penalty(...) NN_AT(nn_l1_penalty(__VA_ARGS__))
#define nn_l2_penalty(...) NN_AT(nn_l2_penalty(__VA_ARGS__))

/* net/optim.h */
#define nn_sgd_new(...) NN_AT(nn_sgd_new(__VA_ARGS__))
#define nn_adam_new(...) NN_AT(nn_adam_new(__VA_ARGS__))
#define nn_adamw_new(...) NN_AT(nn_adamw_new(__VA_ARGS__))
#define nn_optim_step(...) NN_AT(nn_optim_step(__VA_ARGS__))
#define nn_clip_grad_norm(...) NN_AT(nn_clip_grad_norm(__VA_ARGS__))

/* net/sample.h */
#define nn_sample(...) NN_AT(nn_sample(__VA_ARGS__))
#define nn_sample_row(...) NN_AT(nn_sample_row(__VA_ARGS__))
#define nn_sample_greedy(...) NN_AT(nn_sample_greedy(__VA_ARGS__))
#define nn_sampling_probs(...) NN_AT(nn_sampling_probs(__VA_ARGS__))
#define nn_sample_from_probs(...) NN_AT(nn_sample_from_probs(__VA_ARGS__))

/* net/preference.h */
#define nn_sequence_log_prob(...) NN_AT(nn_sequence_log_prob(__VA_ARGS__))
#define nn_dpo_loss(...) NN_AT(nn_dpo_loss(__VA_ARGS__))

/* net/sample_stats.h */
#define nn_entropy(...) NN_AT(nn_entropy(__VA_ARGS__))
#define nn_repeat_share(...) NN_AT(nn_repeat_share(__VA_ARGS__))
#define nn_repeated_ngram_share(...) NN_AT(nn_repeated_ngram_share(__VA_ARGS__))
#define nn_distinct_n(...) NN_AT(nn_distinct_n(__VA_ARGS__))

/* net/prune.h */
#define nn_prune_magnitude(...) NN_AT(nn_prune_magnitude(__VA_ARGS__))
#define nn_prune_apply(...) NN_AT(nn_prune_apply(__VA_ARGS__))
#define nn_prune_kept(...) NN_AT(nn_prune_kept(__VA_ARGS__))

/* net/distill.h */
#define nn_distill_loss(...) NN_AT(nn_distill_loss(__VA_ARGS__))

/* data/image.h */
#define nn_image_load(...) NN_AT(nn_image_load(__VA_ARGS__))
#define nn_image_save_png(...) NN_AT(nn_image_save_png(__VA_ARGS__))
#define nn_image_save_png_in(...) NN_AT(nn_image_save_png_in(__VA_ARGS__))
#define nn_image_resize(...) NN_AT(nn_image_resize(__VA_ARGS__))
#define nn_image_scale_nearest(...) NN_AT(nn_image_scale_nearest(__VA_ARGS__))
#define nn_image_to_grey(...) NN_AT(nn_image_to_grey(__VA_ARGS__))
#define nn_image_grid(...) NN_AT(nn_image_grid(__VA_ARGS__))

/* data/idx.h */
#define nn_idx_load_images(...) NN_AT(nn_idx_load_images(__VA_ARGS__))
#define nn_idx_load_labels(...) NN_AT(nn_idx_load_labels(__VA_ARGS__))
#define nn_idx_load_image_bytes(...) NN_AT(nn_idx_load_image_bytes(__VA_ARGS__))

/* data/dataset.h */
#define nn_dataset_init(...) NN_AT(nn_dataset_init(__VA_ARGS__))
#define nn_dataset_init_bytes(...) NN_AT(nn_dataset_init_bytes(__VA_ARGS__))
#define nn_dataset_sample(...) NN_AT(nn_dataset_sample(__VA_ARGS__))
#define nn_dataset_free(...) NN_AT(nn_dataset_free(__VA_ARGS__))
#define nn_dataset_batch(...) NN_AT(nn_dataset_batch(__VA_ARGS__))
#define nn_dataset_batch_targets(...) NN_AT(nn_dataset_batch_targets(__VA_ARGS__))
#define nn_dataset_split(...) NN_AT(nn_dataset_split(__VA_ARGS__))
#define nn_dataset_shuffle(...) NN_AT(nn_dataset_shuffle(__VA_ARGS__))
#define nn_dataset_split_fraction(...) NN_AT(nn_dataset_split_fraction(__VA_ARGS__))

/* data/text.h */
#define nn_utf8_check(...) NN_AT(nn_utf8_check(__VA_ARGS__))
#define nn_vocab_build(...) NN_AT(nn_vocab_build(__VA_ARGS__))
#define nn_vocab_id(...) NN_AT(nn_vocab_id(__VA_ARGS__))
#define nn_vocab_encode(...) NN_AT(nn_vocab_encode(__VA_ARGS__))
#define nn_vocab_decode(...) NN_AT(nn_vocab_decode(__VA_ARGS__))
#define nn_vocab_save(...) NN_AT(nn_vocab_save(__VA_ARGS__))
#define nn_vocab_load(...) NN_AT(nn_vocab_load(__VA_ARGS__))

/* data/text_corpus.h */
#define nn_text_load(...) NN_AT(nn_text_load(__VA_ARGS__))
#define nn_fortunes_load(...) NN_AT(nn_fortunes_load(__VA_ARGS__))

/* data/text_batch.h */
#define nn_text_split(...) NN_AT(nn_text_split(__VA_ARGS__))
#define nn_text_random_batch(...) NN_AT(nn_text_random_batch(__VA_ARGS__))
#define nn_text_stream_init(...) NN_AT(nn_text_stream_init(__VA_ARGS__))
#define nn_text_stream_next(...) NN_AT(nn_text_stream_next(__VA_ARGS__))
#define nn_text_stream_reset(...) NN_AT(nn_text_stream_reset(__VA_ARGS__))

/* data/bpe.h */
#define nn_bpe_train(...) NN_AT(nn_bpe_train(__VA_ARGS__))
#define nn_bpe_size(...) NN_AT(nn_bpe_size(__VA_ARGS__))
#define nn_bpe_encode(...) NN_AT(nn_bpe_encode(__VA_ARGS__))
#define nn_bpe_decode(...) NN_AT(nn_bpe_decode(__VA_ARGS__))
#define nn_bpe_token(...) NN_AT(nn_bpe_token(__VA_ARGS__))
#define nn_bpe_save(...) NN_AT(nn_bpe_save(__VA_ARGS__))
#define nn_bpe_load(...) NN_AT(nn_bpe_load(__VA_ARGS__))

/* data/csv.h */
#define nn_csv_load(...) NN_AT(nn_csv_load(__VA_ARGS__))

/* data/fashion_mnist.h */
#define nn_fashion_mnist_load(...) NN_AT(nn_fashion_mnist_load(__VA_ARGS__))
#define nn_fashion_mnist_load_bytes(...) NN_AT(nn_fashion_mnist_load_bytes(__VA_ARGS__))

/* data/checkpoint.h */
#define nn_model_save(...) NN_AT(nn_model_save(__VA_ARGS__))
#define nn_model_load(...) NN_AT(nn_model_load(__VA_ARGS__))

/* data/vector_index.h */
#define nn_vector_index_new(...) NN_AT(nn_vector_index_new(__VA_ARGS__))
#define nn_vector_index_dim(...) NN_AT(nn_vector_index_dim(__VA_ARGS__))
#define nn_vector_index_count(...) NN_AT(nn_vector_index_count(__VA_ARGS__))
#define nn_vector_index_add(...) NN_AT(nn_vector_index_add(__VA_ARGS__))
#define nn_vector_index_search(...) NN_AT(nn_vector_index_search(__VA_ARGS__))
#define nn_vector_index_text(...) NN_AT(nn_vector_index_text(__VA_ARGS__))
#define nn_vector_index_tag(...) NN_AT(nn_vector_index_tag(__VA_ARGS__))
#define nn_vector_index_vector(...) NN_AT(nn_vector_index_vector(__VA_ARGS__))
#define nn_vector_index_save(...) NN_AT(nn_vector_index_save(__VA_ARGS__))
#define nn_vector_index_load(...) NN_AT(nn_vector_index_load(__VA_ARGS__))

/* train/early_stop.h */
#define nn_early_stop_new(...) NN_AT(nn_early_stop_new(__VA_ARGS__))
#define nn_early_stop_check(...) NN_AT(nn_early_stop_check(__VA_ARGS__))
#define nn_early_stop_restore(...) NN_AT(nn_early_stop_restore(__VA_ARGS__))

/* train/progress.h */
#define nn_progress_update(...) NN_AT(nn_progress_update(__VA_ARGS__))

/* train/data_parallel.h */
#define nn_dist_init(...) NN_AT(nn_dist_init(__VA_ARGS__))
#define nn_dist_broadcast_params(...) NN_AT(nn_dist_broadcast_params(__VA_ARGS__))
#define nn_dist_average_grads(...) NN_AT(nn_dist_average_grads(__VA_ARGS__))
#define nn_dist_sum(...) NN_AT(nn_dist_sum(__VA_ARGS__))
#define nn_dist_barrier(...) NN_AT(nn_dist_barrier(__VA_ARGS__))
#define nn_dist_shard_of(...) NN_AT(nn_dist_shard_of(__VA_ARGS__))

/* train/diagnostics.h */
#define nn_model_snapshot(...) NN_AT(nn_model_snapshot(__VA_ARGS__))
#define nn_model_restore(...) NN_AT(nn_model_restore(__VA_ARGS__))
#define nn_model_update_ratio(...) NN_AT(nn_model_update_ratio(__VA_ARGS__))
#define nn_activation_stats(...) NN_AT(nn_activation_stats(__VA_ARGS__))
#define nn_diagnose(...) NN_AT(nn_diagnose(__VA_ARGS__))
#define nn_grad_norm(...) NN_AT(nn_grad_norm(__VA_ARGS__))
#define nn_value_norm(...) NN_AT(nn_value_norm(__VA_ARGS__))
#define nn_check_start_loss(...) NN_AT(nn_check_start_loss(__VA_ARGS__))

/* train/augment.h */
#define nn_aug_noise(...) NN_AT(nn_aug_noise(__VA_ARGS__))
#define nn_aug_jitter(...) NN_AT(nn_aug_jitter(__VA_ARGS__))
#define nn_aug_flip_h(...) NN_AT(nn_aug_flip_h(__VA_ARGS__))
#define nn_aug_flip_v(...) NN_AT(nn_aug_flip_v(__VA_ARGS__))
#define nn_aug_random_flip_h(...) NN_AT(nn_aug_random_flip_h(__VA_ARGS__))
#define nn_aug_rot90(...) NN_AT(nn_aug_rot90(__VA_ARGS__))
#define nn_aug_rotate(...) NN_AT(nn_aug_rotate(__VA_ARGS__))
#define nn_aug_random_rotate(...) NN_AT(nn_aug_random_rotate(__VA_ARGS__))
#define nn_aug_crop(...) NN_AT(nn_aug_crop(__VA_ARGS__))
#define nn_aug_random_crop(...) NN_AT(nn_aug_random_crop(__VA_ARGS__))

/* viz/heatmap.h */
#define nn_heatmap(...) NN_AT(nn_heatmap(__VA_ARGS__))

/* viz/plot.h */
#define nn_plot_svg(...) NN_AT(nn_plot_svg(__VA_ARGS__))
#define nn_plot_svg_in(...) NN_AT(nn_plot_svg_in(__VA_ARGS__))
#define nn_plot_svg_labels(...) NN_AT(nn_plot_svg_labels(__VA_ARGS__))
#define nn_plot_svg_labels_in(...) NN_AT(nn_plot_svg_labels_in(__VA_ARGS__))
#define nn_plot_ascii(...) NN_AT(nn_plot_ascii(__VA_ARGS__))

/* cli/args.h */
#define nn_parse_options(...) NN_AT(nn_parse_options(__VA_ARGS__))
#define nn_option_given(...) NN_AT(nn_option_given(__VA_ARGS__))

/* cli/out_path.h */
#define nn_out_path(...) NN_AT(nn_out_path(__VA_ARGS__))

#endif /* NN_BUILDING_LIBRARY */
#endif
