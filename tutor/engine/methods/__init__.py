"""Solution methods, one class per method; each module lists its classes in ``METHODS``.

The registry (:mod:`tutor.engine.registry`) imports the modules named in its
``METHOD_MODULES``; see :mod:`tutor.engine` for how to write a method.
"""
