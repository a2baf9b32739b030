# pytorch/examples, time_sequence_prediction (BSD-3-Clause): generate_sine_wave.py
# and train.py, as written upstream against torch (the 2020-25 text: LSTMCells
# in double precision, LBFGS with a closure, 1000 steps of future prediction),
# in one file. Left out: generate_sine_wave.py's `torch.save(data, ...)` and
# train.py's `torch.load('traindata.pt')` (the harness hands `main` the array
# that generate_sine_wave makes, through `make_data`: upstream's statements with
# T, L and N as arguments, defaults upstream's), and the matplotlib drawing of
# each step's prediction (the harness records `y` instead, through `draw`).
# Where the harness needs a hook, the scripts' module-level code is wrapped in
# a function (`make_data`, `main`), its statements unchanged; `main` takes the
# argv that upstream's parse_args() reads from sys.argv, and `future`. The
# crosscheck runs this text with torch, and again with only its imports
# rewritten for actnet (util_porting.port_source).
from __future__ import print_function
import argparse
import torch
import torch.nn as nn
import torch.optim as optim
import numpy as np


###############################################################################
# generate_sine_wave.py
###############################################################################

def make_data(T=20, L=1000, N=100):  # hook: upstream's module level
    np.random.seed(2)

    x = np.empty((N, L), 'int64')
    x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
    data = np.sin(x / 1.0 / T).astype('float64')
    return data  # upstream: torch.save(data, open('traindata.pt', 'wb'))


###############################################################################
# train.py
###############################################################################

class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.lstm2 = nn.LSTMCell(51, 51)
        self.linear = nn.Linear(51, 1)

    def forward(self, input, future = 0):
        outputs = []
        h_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):# if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


def draw(i, y, input, future):  # hook: upstream draws y with matplotlib
    pass


def main(argv, data, init, optimizer_options=None, future=1000):  # hook: `if __name__ == '__main__':`
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=15, help='steps to run')
    opt = parser.parse_args(argv)
    # set random seed to 0
    np.random.seed(0)
    torch.manual_seed(0)
    # load data and make training set
    # hook: upstream's data = torch.load('traindata.pt')
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    # build the model
    seq = Sequence()
    seq.double()
    init(seq)  # hook: the same initial weights on both sides
    criterion = nn.MSELoss()
    # use LBFGS as optimizer since we can load the whole data to train
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8, **(optimizer_options or {}))  # hook: options
    #begin to train
    for i in range(opt.steps):
        print('STEP: ', i)
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print('loss:', loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        # begin to predict, no need to track gradient here
        with torch.no_grad():
            # hook: upstream's future = 1000 is an argument
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            print('test loss:', loss.item())
            y = pred.detach().numpy()
        # draw the result
        draw(i, y, input, future)  # hook: upstream's plt.figure ... plt.close()
    return seq
