"""A small multilayer perceptron as pure functions: parameters are a list of (W, b) layers."""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp


def init_mlp(key: jax.Array, layer_sizes: Sequence[int]) -> list[tuple[jax.Array, jax.Array]]:
    """Layers for sizes (inputs, hidden…, outputs): W float32[in, out] ~ N(0, 1/in), b = 0."""
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        weights = jax.random.normal(jax.random.fold_in(key, index), (fan_in, fan_out),
                                    jnp.float32) / jnp.sqrt(jnp.float32(fan_in))
        layers.append((weights, jnp.zeros(fan_out, jnp.float32)))
    return layers


def mlp_logits(layers, inputs: jax.Array) -> jax.Array:
    """Logits float[..., outputs] of inputs float[..., in]; tanh between layers."""
    activations = inputs
    for weights, bias in layers[:-1]:
        activations = jnp.tanh(activations @ weights + bias)
    weights, bias = layers[-1]
    return activations @ weights + bias


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean of −log softmax(logits)[label] over examples: logits [N, C], labels int[N]."""
    log_probabilities = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_probabilities, labels[:, None], axis=-1))


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Fraction of examples whose largest logit is the label."""
    return jnp.mean(jnp.argmax(logits, axis=-1) == labels)


def random_indices(key: jax.Array, count: int, num_examples: int) -> jax.Array:
    """int32[count] example indices, uniform with replacement: 32 random bits mod N.

    (Bias at most N/2³² per index, negligible for these datasets; it compiles faster than
    `jax.random.randint` on the CPU.)
    """
    return (jax.random.bits(key, (count,), jnp.uint32) % num_examples).astype(jnp.int32)
