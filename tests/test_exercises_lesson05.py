"""The checks of lesson 05's exercises accept the solution's answer and give the right hint to
typical wrong ones. A few thousand generated players and a few boosting rounds."""

import dask.dataframe as dd
import pytest

from helpers.data import CATEGORICAL_COLUMNS, LABEL, game_features_frame
from helpers.exercises.lesson05 import check_exercise_1, check_exercise_2
from helpers.i18n import set_language
from tools.language import reads_as_other_language

# A cluster that stops making progress fails the test instead of hanging CI.
pytestmark = pytest.mark.timeout(300)

xgb = pytest.importorskip("xgboost")
dxgb = pytest.importorskip("xgboost.dask")


@pytest.fixture(scope="module")
def players():
    """Generated players with their categories declared (known), split in two partitions."""
    return dd.from_pandas(game_features_frame(3_000, seed=0), npartitions=2)


def features(table):
    return [column for column in table.columns if column != LABEL]


def test_exercise_1(roomy_client, players):
    from helpers.workers import xgboost_training

    X_train, y_train = players[features(players)], players[LABEL]
    onehot_train = dd.get_dummies(X_train, columns=list(CATEGORICAL_COLUMNS))
    onehot_clf = dxgb.DaskXGBClassifier(n_estimators=3, tree_method="hist")
    with xgboost_training(roomy_client):
        onehot_clf.fit(onehot_train, y_train)
    feedback = check_exercise_1(onehot_train, onehot_clf, 0.717, 0.718)
    assert feedback.ok and "21 columns" in feedback.message

    platform_only = dd.get_dummies(X_train, columns=["platform"])
    feedback = check_exercise_1(platform_only, onehot_clf, 0.717, 0.718)
    assert not feedback.ok and "still categorical: region, genre" in feedback.message
    with_the_label = dd.get_dummies(players, columns=list(CATEGORICAL_COLUMNS))
    feedback = check_exercise_1(with_the_label, onehot_clf, 0.717, 0.718)
    assert not feedback.ok and "is the label, not a feature" in feedback.message
    drop_first = dd.get_dummies(X_train, columns=list(CATEGORICAL_COLUMNS), drop_first=True)
    feedback = check_exercise_1(drop_first, onehot_clf, 0.717, 0.718)
    assert not feedback.ok and "not trained on the columns of `onehot_train`" in feedback.message
    feedback = check_exercise_1(onehot_train, xgb.XGBClassifier(), 0.717, 0.718)
    assert not feedback.ok and "should be a `DaskXGBClassifier`" in feedback.message
    feedback = check_exercise_1(onehot_train, dxgb.DaskXGBClassifier(), 0.717, 0.718)
    assert not feedback.ok and "is not trained yet" in feedback.message
    feedback = check_exercise_1(onehot_train, onehot_clf, 0.5, 0.718)
    assert not feedback.ok and "far from `acc_dask`" in feedback.message
    lazy_accuracy = (players[LABEL] == 0).mean()
    feedback = check_exercise_1(onehot_train, onehot_clf, lazy_accuracy, 0.718)
    assert not feedback.ok and "already computed" in feedback.message


@pytest.fixture(scope="module")
def model():
    """A booster trained with early stopping, so that it keeps rounds after its best one."""
    table = game_features_frame(3_000, seed=2)
    X, y = table[features(table)], table[LABEL]
    train = xgb.DMatrix(X[:2_000], y[:2_000], enable_categorical=True)
    valid = xgb.DMatrix(X[2_000:], y[2_000:], enable_categorical=True)
    params = {"objective": "multi:softprob", "num_class": 3, "tree_method": "hist"}
    booster = xgb.train(params, train, num_boost_round=200, evals=[(valid, "valid")],
                        early_stopping_rounds=3, verbose_eval=False)
    assert booster.num_boosted_rounds() > booster.best_iteration + 1
    return booster


def test_exercise_2(roomy_client, players, model):
    new_players = players
    best = (0, model.best_iteration + 1)
    X_new = new_players[features(new_players)]
    proba_new = dxgb.inplace_predict(roomy_client, model, X_new, iteration_range=best)
    feedback = check_exercise_2(new_players, model, proba_new, 0.72, 0.718)
    assert feedback.ok, feedback
    with_predict = dxgb.predict(roomy_client, model, X_new, iteration_range=best)
    assert check_exercise_2(new_players, model, with_predict, 0.72, 0.718).ok

    every_round = dxgb.inplace_predict(roomy_client, model, X_new)
    feedback = check_exercise_2(new_players, model, every_round, 0.72, 0.718)
    assert not feedback.ok and "without `iteration_range` it uses them all" in feedback.message
    one_short = dxgb.inplace_predict(roomy_client, model, X_new, iteration_range=(0, best[1] - 1))
    feedback = check_exercise_2(new_players, model, one_short, 0.72, 0.718)
    assert not feedback.ok and "right after the best round" in feedback.message
    unknown = new_players.assign(platform=new_players["platform"].cat.as_unknown())
    feedback = check_exercise_2(unknown, model, proba_new, 0.72, 0.718)
    assert not feedback.ok and "categories of `platform` are not the training ones" in (
        feedback.message)
    alphabetical = sorted(new_players["region"].cat.categories)
    region = new_players["region"].cat.reorder_categories(alphabetical)
    reordered = new_players.assign(region=region)
    feedback = check_exercise_2(reordered, model, proba_new, 0.72, 0.718)
    assert not feedback.ok and "categories of `region`" in feedback.message
    in_the_kernel = model.inplace_predict(X_new.compute(), iteration_range=best)
    feedback = check_exercise_2(new_players, model, in_the_kernel, 0.72, 0.718)
    assert not feedback.ok and "not computed on the workers" in feedback.message
    feedback = check_exercise_2(new_players, model, proba_new, 0.33, 0.718)
    assert not feedback.ok and "far from the test set's" in feedback.message

    set_language("es")
    feedback = check_exercise_2(new_players, model, every_round, 0.72, 0.718)
    assert str(feedback).startswith("✘ Todavía no:")
    assert not reads_as_other_language(feedback.message, "es"), feedback.message
