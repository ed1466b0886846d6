"""Evaluation: gold threads against predicted ones, and the reports built on the scores.

    gold, predicted ──alignment──► thread pairs ──spans.count_thread / stance.stance_pairs──► one row per thread
        rows summed ──spans.span_scores / stance.stance_scores──► metrics (component_metrics, stance_metrics)
        rows resampled ──bootstrap──► <key>/ci95 intervals over threads
    metrics ──report (glossary, figures, disagreements)──► report.md, confusion_*.png, errors.html
    run folders ──runs──► RunRecord / RunGroup ──results──► runs_summary.*, experiments/RESULTS.md

Also ``suite`` (report.md of a stance dev suite) and ``agreement`` (Cohen's kappa between two
annotators). Pure functions over ``argmine.thread`` objects; no model is involved.
"""
