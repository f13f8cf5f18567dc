element.addEventListener('click', (e) => {
  const b = e.target.closest('button.ca-open, [data-open]');
  if (b) trigger('click', {n: Number(b.dataset.n)});
});
