"""r1-data: the data stages of the R1 recipe, without the training stack."""
