"""Détente: verification machinery for arms-control agreements."""
