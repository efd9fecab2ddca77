import time, gc
import symgrad as sg
from benchmarks.bench_backends import w3
from symgrad.evaluate import Schedule
from symgrad.backends import python as pb
g, values, _ = w3(10000)
gc.disable()
o=sg.optimize(g)
for i in range(3):
    s=Schedule(o); t=time.process_time(); f=pb._assembled(s); t3=time.process_time()
    print("assemble", t3-t)
