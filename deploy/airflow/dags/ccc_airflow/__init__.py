"""The pieces of the customer_courier_conversations DAG: settings from params and Variables,
running ccc steps with exit codes mapped to Airflow's meaning, and alerts."""
