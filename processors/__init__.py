"""Processing stages: pure functions over ``schemas`` models, and the Faust adapters around them."""
