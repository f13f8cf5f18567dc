() => {
  let tries = 0;
  const go = () => {
    const el = document.querySelector('#ca-chat-article .ca-cited');
    if (el && el.offsetParent !== null) { el.scrollIntoView({block: 'center'}); }
    else if (tries++ < 40) { setTimeout(go, 50); }
  };
  go();
}
