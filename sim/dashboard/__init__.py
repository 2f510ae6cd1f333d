"""`decai dashboard`: a config's model run live in the browser (Mesa's SolaraViz), or a
results folder's plots and tables.

sim.dashboard.live is the model the page steps (no Solara there); sim.dashboard.pages the
Solara components; sim.dashboard.app the module the Solara server runs; sim.dashboard.serve
starts it, after sim.dashboard.assets has made sure the browser can load the page. Solara
comes with the `dashboard` extra.
"""
