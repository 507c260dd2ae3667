"""The prose's package names link to their API entry (book/_ext/api_links.py): the rule."""

import pytest

from conftest import book_extension

api_links = book_extension("api_links")

#: A made-up Python domain: full name -> kind, shaped like the package's.
OBJECTS = {
    "nntrain": "module",
    "nntrain.device": "function",
    "nntrain.train": "module",
    "nntrain.train.train": "function",
    "nntrain.reference.optim.sgd": "function",
    "nntrain.torch.optim.sgd": "function",
    "nntrain.torch.optim.SGD": "class",
    "nntrain.torch": "module",
    "nntrain.reference.fc_net.FullyConnectedNet": "class",
    "nntrain.reference.fc_net.FullyConnectedNet.loss": "method",
    "nntrain.reference.fc_net.FullyConnectedNet.params": "attribute",
    "nntrain.torch.fc_net.FullyConnectedNet": "class",
    "nntrain.validation.params": "function",
    "nntrain.babysit.steps.checklist": "function",
    "nntrain.search.batched.train_batched": "function",
    "nntrain.reference.init.xavier_normal": "function",
    "nntrain.torch.init.xavier_normal": "function",
    "nntrain.landscape.bowls.momentum_rate": "function",
    "nntrain.search.spaces.grid": "function",
    "nntrain.plots.grid": "function",
}


@pytest.mark.parametrize(
    "text, full",
    [
        ("train", "nntrain.train.train"),  # the function, not its module
        ("train()", "nntrain.train.train"),
        ("train(net, data, epochs=3)", "nntrain.train.train"),
        ("nntrain.train.train", "nntrain.train.train"),
        ("nntrain.device()", "nntrain.device"),
        ("nntrain", "nntrain"),
        ("nntrain.torch", "nntrain.torch"),
        ("sgd", "nntrain.reference.optim.sgd"),  # unqualified: the reference
        ("optim.sgd", "nntrain.reference.optim.sgd"),
        ("nntrain.torch.optim.sgd", "nntrain.torch.optim.sgd"),
        ("nntrain.torch.optim.SGD", "nntrain.torch.optim.SGD"),
        ("FullyConnectedNet", "nntrain.reference.fc_net.FullyConnectedNet"),
        ("nntrain.torch.FullyConnectedNet(...)", "nntrain.torch.fc_net.FullyConnectedNet"),
        ("FullyConnectedNet.loss(X)", "nntrain.reference.fc_net.FullyConnectedNet.loss"),
        ("babysit.checklist", "nntrain.babysit.steps.checklist"),  # re-exported
        ("nntrain.search.train_batched", "nntrain.search.batched.train_batched"),
        ("init.xavier_normal", "nntrain.reference.init.xavier_normal"),
    ],
)
def test_a_name_links_to_the_object_it_names(text, full):
    assert api_links.target(text, OBJECTS) == full


@pytest.mark.parametrize(
    "text",
    [
        "SGD",  # PyTorch's optimizer: the twin's class needs its qualifier
        "torch.optim.SGD",
        "nn.Linear",
        "F.softmax",
        "params",  # an attribute of a class too: a word of many objects
        "loss",
        "grid",  # two functions
        "ls.momentum_rate",  # an alias the chapter imported, not a part of the path
        "history.val_acc",
        'bn_param["mode"]',
        "True",
        "x",
        "nntrain.",
    ],
)
def test_a_name_that_does_not_say_which_object_stays_text(text):
    assert api_links.target(text, OBJECTS) is None


def test_qualifiers_must_appear_in_order():
    assert api_links.contains_in_order(["babysit"], ["babysit", "steps"])
    assert not api_links.contains_in_order(["steps", "babysit"], ["babysit", "steps"])
