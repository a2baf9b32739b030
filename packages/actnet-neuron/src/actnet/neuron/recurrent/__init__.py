"""Recurrent networks: PyTorch's torch.rnn_tanh, rnn_relu, lstm, gru (stacked,
bidirectional, over a whole sequence) and their one-step cells."""
