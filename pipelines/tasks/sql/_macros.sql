{#- The tracker's one status rule, for task_status and instruction_status (an item of the office's
    list and an instruction are judged alike). Reads the columns completion_state (done / open /
    rebound), done_before (done in an earlier quarter's list: the same item), completed_on, due_on
    and period_end of the row it is written in:
      reopened  marked 回头看反弹, or open again although an earlier list had it done
      done      done on or before its due date (or done with no date given)
      done_late done after its due date
      overdue   open, due date passed at the quarter's end
      on_time   open, not yet due -#}
{% macro status() -%}
case
    when completion_state = 'rebound' or (completion_state = 'open' and done_before) then 'reopened'
    when completion_state = 'done' and (completed_on is null or completed_on <= due_on) then 'done'
    when completion_state = 'done' then 'done_late'
    when period_end > due_on then 'overdue'
    else 'on_time'
end
{%- endmacro %}
