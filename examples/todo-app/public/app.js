// Show the backend this build was deployed with. textContent only: the
// outputs file is data, never markup.
(function () {
  'use strict';

  function setText(id, value) {
    document.getElementById(id).textContent = value || '—';
  }

  function show(outputs) {
    var data = outputs.data || {};
    var storage = outputs.storage || {};
    var auth = outputs.auth || {};
    var models = Object.keys((data.model_introspection || {}).models || {});
    setText('region', data.aws_region || storage.aws_region || auth.aws_region);
    setText('api-url', data.url);
    setText('api-auth', data.default_authorization_type);
    setText('models', models.join(', '));
    setText('bucket', storage.bucket_name);
    setText('user-pool', auth.user_pool_id);
    var list = document.getElementById('buckets');
    (storage.buckets || []).forEach(function (bucket) {
      var item = document.createElement('li');
      item.textContent = bucket.name + ': ' + bucket.bucket_name + ' (' + bucket.aws_region + ')';
      list.appendChild(item);
    });
    setText('status', 'Backend outputs version ' + outputs.version + '.');
    document.getElementById('outputs').hidden = false;
  }

  fetch('amplify_outputs.json', { cache: 'no-store' })
    .then(function (response) {
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      return response.json();
    })
    .then(show)
    .catch(function (error) {
      setText('status', 'No backend outputs found (' + error.message + '). Deploy the backend first.');
    });
})();
