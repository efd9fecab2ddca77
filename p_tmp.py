import time, cProfile, pstats, numpy as np, symgrad as sg
from benchmarks.workloads import rosen_vec
x = sg.var("x", (10,)); sg.compile(sg.hessian(rosen_vec(x, sg.sum), [x], sparse=True))
for n in (1000, 10000, 100000):
    x = sg.var("x", (n,))
    t=time.perf_counter(); H = sg.hessian(rosen_vec(x, sg.sum), [x], sparse=True); fn=sg.compile(H); print(n, time.perf_counter()-t)
x = sg.var("x", (1000,))
cProfile.run('sg.compile(sg.hessian(rosen_vec(x, sg.sum), [x], sparse=True))', '/tmp/prof2')
pstats.Stats('/tmp/prof2').sort_stats('cumtime').print_stats(25)
