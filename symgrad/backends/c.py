class CProgram: pass
def to_c(graph): pass
