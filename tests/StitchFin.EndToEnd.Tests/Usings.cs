global using StitchFin.Testing;
