"""The Streamlit UI layer shared by the page scripts in pages/ (never imported by hjo_data).

context.py  page_setup, PageContext, cached bundle and filtered frames, section cache
filters.py  sidebar filter widgets <-> Filters <-> URL query parameters
charts.py   show_figure, plotly config (Swedish toolbar), "Visa data" table + CSV
widgets.py  show_empty, suppression notes, Swedish file uploader
auth.py     current_user / require_role / login session
report.py   lägesbild report download section
presentation.py             slide HTML, CSS and controls of the presentation mode
upload.py, forms.py, batches.py   the tabs of Datahantering
"""
