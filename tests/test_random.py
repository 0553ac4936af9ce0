"""fitorch.random against Keras 3's torch backend: same numbers for int and SeedGenerator seeds,
and no change to the global RNG when a seed is given."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fitorch import random as ft_random
from tests.keras_oracle import keras, to_numpy  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(torch.cuda.is_available(),
                                reason="Keras draws on the GPU there, fitorch on the default "
                                       "device; the numbers differ by device")

CALLS = [
    ("normal", lambda m, seed: m.normal((3, 4), mean=1.0, stddev=2.0, seed=seed)),
    ("uniform", lambda m, seed: m.uniform((5,), minval=-1.0, maxval=3.0, seed=seed)),
    ("uniform_scalar", lambda m, seed: m.uniform((), seed=seed)),
    ("randint", lambda m, seed: m.randint((4, 2), 0, 10, seed=seed)),
    ("truncated_normal", lambda m, seed: m.truncated_normal((50,), stddev=0.5, seed=seed)),
    ("shuffle_axis0", lambda m, seed: m.shuffle(torch.arange(24.).reshape(6, 4), seed=seed)),
    ("shuffle_axis1", lambda m, seed: m.shuffle(torch.arange(24.).reshape(4, 6), axis=1,
                                                seed=seed)),
    ("dropout", lambda m, seed: m.dropout(torch.ones(4, 5), 0.4, seed=seed)),
    ("dropout_noise_shape", lambda m, seed: m.dropout(torch.ones(4, 5), 0.5, noise_shape=(None, 1),
                                                      seed=seed)),
    ("categorical", lambda m, seed: m.categorical(torch.tensor([[0., 1., 2.], [3., 0., 0.]]), 6,
                                                  seed=seed)),
    ("gamma", lambda m, seed: m.gamma((5,), 2.0, seed=seed)),
    ("binomial", lambda m, seed: m.binomial((5,), 10.0, 0.3, seed=seed)),
    ("beta", lambda m, seed: m.beta((5,), 2.0, 3.0, seed=seed)),
]


@pytest.mark.parametrize("name,call", CALLS, ids=[c[0] for c in CALLS])
def test_int_seed_gives_keras_numbers_and_leaves_the_global_rng_alone(keras, name, call):
    before = torch.random.get_rng_state()
    ours = call(ft_random, 42)
    assert torch.equal(torch.random.get_rng_state(), before)
    np.testing.assert_array_equal(ours.numpy(), to_numpy(call(keras.random, 42)))
    np.testing.assert_array_equal(call(ft_random, 42).numpy(), ours.numpy())


@pytest.mark.parametrize("name,call", CALLS[:4], ids=[c[0] for c in CALLS[:4]])
def test_seed_generator_streams_match_keras(keras, name, call):
    theirs, ours = keras.random.SeedGenerator(7), ft_random.SeedGenerator(7)
    draws = [call(ft_random, ours) for _ in range(3)]
    for draw in draws:
        np.testing.assert_array_equal(draw.numpy(), to_numpy(call(keras.random, theirs)))
    assert not np.array_equal(draws[0].numpy(), draws[1].numpy())
    again = ft_random.SeedGenerator.from_config(ft_random.SeedGenerator(7).get_config())
    np.testing.assert_array_equal(call(ft_random, again).numpy(), draws[0].numpy())


def test_no_seed_uses_the_global_rng():
    torch.manual_seed(3)
    a = ft_random.normal((4,))
    torch.manual_seed(3)
    np.testing.assert_array_equal(ft_random.normal((4,)).numpy(), a.numpy())
    torch.manual_seed(3)
    gen_a = ft_random.SeedGenerator()
    torch.manual_seed(3)
    assert ft_random.SeedGenerator().get_config()["seed"] is None
    assert gen_a.state.tolist() == ft_random.SeedGenerator(int(gen_a.state[0])).state.tolist()


def test_distributions_and_bad_arguments():
    x = ft_random.truncated_normal((20000,), mean=1.0, stddev=2.0, seed=0)
    assert float(x.min()) > -3.0 and float(x.max()) < 5.0
    assert abs(float(x.std()) - 2.0 * 0.8796) < 0.05  # std of a normal cut at two sigmas
    kept = ft_random.dropout(torch.ones(10000), 0.3, seed=1)
    assert kept.unique().tolist() == pytest.approx([0.0, 1 / 0.7])
    assert abs(float((kept == 0).float().mean()) - 0.3) < 0.02
    with pytest.raises(ValueError, match="seed='a'"):
        ft_random.normal((2,), seed="a")
    with pytest.raises(ValueError, match="rate=1.5"):
        ft_random.dropout(torch.ones(2), 1.5)
    with pytest.raises(ValueError, match="maxval=0"):
        ft_random.randint((2,), 0, 0)
    with pytest.raises(ValueError, match="dtype='float99'"):
        ft_random.uniform((2,), dtype="float99")
