"""Constructs: translate a plan into cdk8s ApiObjects, one class per kind, one module per API family."""
