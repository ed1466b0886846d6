"""Stance toward the original post: support / attack / none (or a corpus's own labels).

    gold.py         gold labels from what corpora annotate (CMV relations, RumourEval keys), by label maps
    inputs.py       thread → StanceExample(StanceInput(post, text, parent), label); a long text reduced to its
                    head, or cut into windows that are all read
    transformer.py  TransformerStanceClassifier: a fine-tuned cross-encoder (LoRA or full); a long text is read
                    as its settings.long_text says (its head, or every window, pooled)
    baseline.py     SklearnStanceClassifier: TF-IDF + logistic regression, saved without pickles
    ensemble.py     EnsembleStanceClassifier: the two pooled, the weight chosen on held-out training threads
    pair.py         PairStanceClassifier: features of a frozen sentence encoder, a logistic-regression head
    train.py        train_stance(train_examples, dev_examples, classifier=..., ...) → dev metrics
    chain.py        predict_stances(classifier, threads, chain=...): replies to replies read through their
                    parent (a reply's agreement with it, composed with the parent's stance)
    predict.py      StanceClassifier (what every kind offers), load_stance_classifier(folder) by its kind,
                    predict_threads(classifier, threads, level=..., chain=...)

Scores are in ``argmine.evaluation.stance``. This package's ``__init__`` imports
nothing heavy: import the module you need.
"""
