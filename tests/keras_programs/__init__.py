"""Keras programs from the Keras 3 guides, run under Keras and under fitorch (see harness.py).

Programs still to add once their features are on main (issue 11): the guide's CustomDropout
(``training=`` in ``call``), feature extraction with ``layer.output`` and ``trainable = False``
(transfer learning guide), the VAE with ``add_loss``, the GAN and custom ``train_step`` of the
customizing-fit guide, a custom ``Metric`` class, masking (``Embedding(mask_zero=True)`` into
an LSTM), and preprocessing layers inside a program. Each is a new module here with
``run(keras, sync) -> dict`` and one test in ``test_programs.py``.
"""
