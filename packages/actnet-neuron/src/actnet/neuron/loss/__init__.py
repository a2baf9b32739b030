"""Loss functions: a prediction and a target in, a loss out, with `reduction=`."""
