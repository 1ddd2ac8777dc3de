"""One torch thread for the pruning tests: their models are tiny, and on a shared 2-core machine a second
thread only spins (a tiny backward pass then takes 100 ms instead of 1 ms)."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
