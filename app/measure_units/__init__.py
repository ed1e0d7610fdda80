"""Measure units (Monite ``/measure_units``): the units an entity's products are counted in."""
