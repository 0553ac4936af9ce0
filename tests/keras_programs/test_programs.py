"""Each Keras program runs under Keras 3 and under fitorch, with only the import changed, and
gives the same results: numerically where the weights were copied across, in behaviour where
randomness (dropout, shuffling) differs.

Tolerances: a forward pass from the same weights agrees to float32 rounding (``FORWARD``);
after training, the order of float32 sums differs step by step and the difference grows
(``TRAINED``). A bug (a wrong loss weight, a skipped update, a different epsilon) is far larger.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.keras_programs.harness import WeightSync, assert_history_close, run_both, to_numpy

pytest.importorskip("keras")

FORWARD = {"rtol": 1e-5, "atol": 1e-6}
TRAINED = {"rtol": 2e-3, "atol": 1e-3}


def close(ours, theirs, tolerance=TRAINED, what=""):
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float),
                               err_msg=what, **tolerance)


def assert_trains_alike(theirs: dict, ours: dict, accuracy_key: str, band: float) -> None:
    """Both runs report the same keys, both losses fall, final accuracies within ``band``."""
    assert sorted(ours) == sorted(theirs)
    for history in (theirs, ours):
        assert history["loss"][-1] < history["loss"][0]
    assert abs(ours[accuracy_key][-1] - theirs[accuracy_key][-1]) <= band


def test_sequential_guide():
    theirs, ours = run_both("sequential_guide")
    for key in ("first_output_shape", "names", "after_pop", "params"):
        assert ours[key] == theirs[key], key
    assert theirs["names"] == ["layer1", "layer2", "layer3"] and theirs["after_pop"] == 2
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    close(ours["evaluate"], theirs["evaluate"])
    close(ours["predictions"], theirs["predictions"])


def test_functional_guide_multi_input_multi_output():
    theirs, ours = run_both("functional_guide")
    assert ours["output_names"] == theirs["output_names"] == ["department", "priority"]
    for name in ("priority", "department"):
        close(ours["initial"][name], theirs["initial"][name], FORWARD, name)
        close(ours[name], theirs[name], what=name)
    close(ours["first_batch"], theirs["first_batch"], FORWARD)  # [loss, per-output losses]
    assert_history_close(theirs["history"], ours["history"], **TRAINED)


def test_subclassing_guide():
    theirs, ours = run_both("subclassing_guide")
    for key in ("output_shape", "weight_shapes", "trainable", "config_units", "clone_units",
                "name", "clone_name"):
        assert ours[key] == theirs[key], key
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    close(ours["predictions"], theirs["predictions"])


def test_training_with_built_in_methods():
    theirs, ours = run_both("built_in_training")
    for key in ("validation_split", "custom_loss", "class_weight", "sample_weight", "schedule",
                "early_stopping"):
        history_theirs, history_ours = theirs[key], ours[key]
        assert sorted(history_ours) == sorted(history_theirs), key
        for name, values in history_theirs.items():
            # one sample near a tie may flip: accuracy is compared to one sample in 100
            tolerance = {"rtol": 0, "atol": 0.01} if "accuracy" in name else TRAINED
            close(history_ours[name], values, tolerance, f"{key}: {name}")
    assert len(theirs["early_stopping"]["loss"]) < 20  # EarlyStopping did stop
    assert ours["checkpoints"] == theirs["checkpoints"]
    close(ours["evaluate"], theirs["evaluate"])
    close(ours["predict"], theirs["predict"])


def test_custom_callbacks_see_the_same_hooks_and_logs():
    theirs, ours = run_both("custom_callbacks")
    assert ours["calls"] == theirs["calls"]  # (hook, sorted logs keys, logs is None) in order
    assert any(hook.startswith("on_predict_batch_begin") for hook, _, _ in theirs["calls"])
    assert ours["epochs_run"] == theirs["epochs_run"] < 30
    assert ours["stopped_epoch"] == theirs["stopped_epoch"]
    assert_history_close(theirs["history"], ours["history"], **TRAINED)


def test_ops_heavy_custom_layer():
    theirs, ours = run_both("ops_layer")
    close(ours["initial"], theirs["initial"], FORWARD)
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    close(ours["predictions"], theirs["predictions"])
    np.testing.assert_array_equal(ours["top_k_indices"], theirs["top_k_indices"])
    np.testing.assert_array_equal(ours["one_hot"], theirs["one_hot"])


def test_mnist_convnet():
    theirs, ours = run_both("mnist_convnet")
    close(ours["initial"], theirs["initial"], FORWARD)  # untrained: no dropout, same weights
    assert_trains_alike(theirs["history"], ours["history"], "val_accuracy", band=0.2)
    assert ours["score"][1] > 0.3 and theirs["score"][1] > 0.3  # ten classes: chance is 0.1
    assert abs(ours["score"][1] - theirs["score"][1]) <= 0.2
    assert ours["predictions_shape"] == theirs["predictions_shape"] == (5, 10)


def test_timeseries_classification():
    theirs, ours = run_both("timeseries_classification")
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    close(ours["test"], theirs["test"])
    close(ours["predictions"], theirs["predictions"])
    assert ours["saved"] == theirs["saved"] == ["best_model.keras"]


def test_transformer_text_classifier():
    theirs, ours = run_both("transformer_classifier")
    close(ours["initial"], theirs["initial"], FORWARD)
    assert_trains_alike(theirs["history"], ours["history"], "val_accuracy", band=0.2)
    assert ours["evaluate"][1] > 0.7 and theirs["evaluate"][1] > 0.7


def test_keras_file_round_trip_and_fitorch_reads_the_keras_file():
    import fitorch as ft

    theirs, ours = run_both("keras_file_round_trip")
    try:
        for result in (theirs, ours):  # each library reloads its own file exactly
            close(result["loaded_predictions"], result["predictions"], FORWARD)
        assert ours["loaded_name"] == theirs["loaded_name"] == "tagger"
        assert ours["loaded_layers"] == theirs["loaded_layers"]

        # fitorch reads the files Keras wrote: the whole model, and the weights alone
        model = ft.models.load_model(theirs["path"])
        close(model.predict(theirs["x"], verbose=0).numpy(), theirs["predictions"], FORWARD)
        twin = ft.models.load_model(ours["path"])
        twin.load_weights(theirs["path"].replace(".keras", ".weights.h5"))
        close(twin.predict(theirs["x"], verbose=0).numpy(), theirs["predictions"], FORWARD)
    finally:
        shutil.rmtree(theirs["workdir"]), shutil.rmtree(ours["workdir"])


def test_custom_dropout_drops_in_fit_only():
    theirs, ours = run_both("custom_dropout")
    close(ours["initial"], theirs["initial"], FORWARD)  # inference: no dropout, same weights
    for result in (theirs, ours):
        assert result["predict_is_plain"] and result["inference_call_is_plain"]
        assert result["evaluate_is_plain"]
        assert result["training_calls_differ"] and not result["training_call_is_plain"]
        # the same start, but fit dropped units: its first-epoch loss is not the plain model's
        assert abs(result["history"]["loss"][0] - result["plain_history"]["loss"][0]) > 1e-3
        assert result["history"]["loss"][-1] < result["history"]["loss"][0]
    close(ours["evaluate"], theirs["evaluate"], FORWARD)
    assert_history_close(theirs["plain_history"], ours["plain_history"], **TRAINED)


def test_custom_metric_class():
    theirs, ours = run_both("custom_metric")
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    assert "categorical_true_positives" in ours["history"]
    close(ours["evaluate"], theirs["evaluate"])
    close(ours["weighted"], theirs["weighted"])
    assert ours["after_reset"] == theirs["after_reset"] == 0.0
    assert ours["metric_name"] == theirs["metric_name"]


def test_masking_embedding_lstm():
    theirs, ours = run_both("masking")
    assert ours["padded_shape"] == theirs["padded_shape"]
    close(ours["initial"], theirs["initial"], FORWARD)
    for result in (theirs, ours):  # padded steps are skipped
        close(result["initial_longer"], result["initial"], FORWARD)
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    close(ours["predictions"], theirs["predictions"])


def test_transfer_learning_feature_extraction_and_frozen_base():
    theirs, ours = run_both("transfer_learning")
    assert ours["n_features"] == theirs["n_features"] == 3
    for index, (mine, keras_features) in enumerate(zip(ours["features"], theirs["features"])):
        close(mine, keras_features, FORWARD, f"output of layer {index}")
    assert ours["counts"] == theirs["counts"]  # (weights, trainable, non-trainable)
    assert ours["n_base_weights"] == theirs["n_base_weights"] == 8  # incl. moving statistics
    assert ours["base_unchanged"] and theirs["base_unchanged"]
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    close(ours["predictions"], theirs["predictions"])


def test_vae_with_add_loss_and_no_targets():
    theirs, ours = run_both("vae")
    for key in ("noisy", "exact"):
        close(ours[key + "_evaluate"], theirs[key + "_evaluate"], FORWARD, key)
        for result in (theirs, ours):
            assert result[key + "_history"]["loss"][-1] < result[key + "_history"]["loss"][0]
        assert ours[key + "_losses"] == theirs[key + "_losses"] == 2
    assert_history_close(theirs["exact_history"], ours["exact_history"], **TRAINED)
    close(ours["exact_predictions"], theirs["exact_predictions"])


def test_normalization_adapt_in_a_program():
    theirs, ours = run_both("normalization")
    close(ours["mean"], theirs["mean"], FORWARD)
    close(ours["variance"], theirs["variance"], FORWARD)
    # fitorch sums the statistics in float64, Keras in float32: a feature with std 0.1 and
    # mean -1 then normalizes ~1e-6 apart near zero
    close(ours["normalized"], theirs["normalized"], {"rtol": 1e-5, "atol": 1e-5})
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    close(ours["predictions"], theirs["predictions"])


def test_text_vectorization_and_string_lookup_feed_an_embedding():
    import fitorch
    import keras

    from tests.keras_programs import text_classification as program

    # Keras 3's TextVectorization / StringLookup need TensorFlow: the vocabularies are checked
    # against Keras's rule (mask "", "[UNK]", then by count, ties: the larger token first)
    fitorch.utils.set_random_seed(0)
    ours_data = to_numpy(program.vectorize(fitorch))
    assert ours_data["vocabulary"] == [
        "", "[UNK]", "great", "was", "the", "dull", "bad", "story", "slow", "movie", "acting",
        "plot", "film", "and", "a"]
    assert ours_data["label_vocabulary"] == ["pos", "neg"]
    assert ours_data["y"].tolist() == [0, 0, 1, 1, 0, 1, 0, 1]
    assert ours_data["ids"][0].tolist() == [4, 9, 3, 2, 0, 0, 0, 0]  # "the movie was great"
    assert ours_data["unseen"].tolist() == [[1, 1, 2, 1, 0, 0, 0, 0]]

    sync = WeightSync()
    keras.utils.set_random_seed(0)
    theirs = to_numpy(program.classify(keras, sync, ours_data["ids"], ours_data["y"],
                                       len(ours_data["vocabulary"])))
    fitorch.utils.set_random_seed(0)
    ours = to_numpy(program.run(fitorch, sync.replaying()))  # the whole program, fitorch only
    close(ours["initial"], theirs["initial"], FORWARD)
    assert_history_close(theirs["history"], ours["history"], **TRAINED)
    close(ours["predictions"], theirs["predictions"])
