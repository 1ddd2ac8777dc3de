"""``python -m benchmarks``: run every benchmark."""

from benchmarks import malach_stream

malach_stream.main([])
