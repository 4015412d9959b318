"""`python -m bench`: run the benchmark groups, print one table, write bench/results/bench.json."""

from bench.suite import main

if __name__ == "__main__":
    main()
