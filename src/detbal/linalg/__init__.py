"""Solvers without physics API: steady states and kernels, bordered and shifted linear solves,
Krylov and exponential propagation, dense and Arnoldi spectra."""
