"""The task layer over a Store: statuses, labels, markers, history, owner commands."""
