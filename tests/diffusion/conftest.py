import torch

# The machine is shared by several engineers: one intra-op thread. Tiny models gain nothing from
# more, and an oversubscribed pool is ten times slower.
torch.set_num_threads(1)
