"""The claim / premise segmenter: BIO token classification over a transformer encoder.

``encoding`` holds the pure text ⇄ tensor functions, ``model`` the ``Segmenter``
(predict, save_pretrained, from_pretrained), ``train`` the ``train_segmenter``
function. Import ``Segmenter`` from ``argmine.segmenter.model`` (this package
does not import torch by itself).
"""
